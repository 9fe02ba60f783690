"""jibo-cloud: a replacement cloud for the Jibo social robot.

This package does the I/O: the trio server (hypercorn's trio worker with quart-trio), the
REST services, the notification socket, the hub sockets, storage and the command line. The
wire protocol itself lives in the pure :mod:`protocol` package, which never imports this one.
"""

__version__ = "0.1.0"
