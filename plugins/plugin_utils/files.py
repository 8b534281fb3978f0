"""The one way the toolkit writes a file on the controller: replaced whole. The data goes to a
temporary file in the same folder, is flushed to disk when `durable` (and the folder too, so
the rename survives a power loss), then renamed over the old file: a reader sees the old file
or the new one, never half of one, and a crash leaves no half-written file in its place."""
import json
import os
import tempfile


def write_atomic(path, data, *, mode=0o600, durable=False, prefix=".tmp-"):
    """Replace `path` with `data` (bytes, or text written as UTF-8)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=prefix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    if durable:
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_json(path, data, *, indent=None, **options):
    write_atomic(path, json.dumps(data, indent=indent) + "\n", **options)
