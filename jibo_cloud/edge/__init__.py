"""The server's edge: accepting connections, serving the robots' websockets itself and handing
everything else to hypercorn's protocol classes.

We run our own small serve loop instead of hypercorn's ``worker_serve`` and our own
connection class instead of its ``TCPServer`` (both read hypercorn's public pieces only:
``ProtocolWrapper``, ``TaskGroup``, ``WorkerContext``, ``Lifespan``, the events), so what must
differ from hypercorn is code we own rather than patches to its private methods:

- :mod:`.connection`: one connection, isolated (a bug in one connection's protocol code closes
  that connection only), with a failed TLS handshake logged, small answers written in one
  ``send()``, no read timer when there is no read timeout; a first request that opens a
  websocket the router serves natively goes to :mod:`.websocket`.
- :mod:`.websocket`: the websockets a connection serves itself (the router's native routes:
  the hub's paths and the notification socket), wsproto in the connection's own task, no
  ASGI, keep-alive Pings sent by the task waiting in ``receive``.
- :mod:`.serving`: the serve loop (trio's ``serve_listeners``, lifespan, graceful shutdown).
- :mod:`.handshakes`: the rate-limited log line for failed TLS handshakes.

What hypercorn itself gets wrong is written up for upstream in docs/upstream-hypercorn.md.
"""
