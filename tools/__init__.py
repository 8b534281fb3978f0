"""Command-line tools of the repository (run through ./run): not part of the collection."""
