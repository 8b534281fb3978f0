"""The fake MYOB Acumatica: `model.AcumaticaModel` holds state and rules, `routes.create_app`
the HTTP."""
