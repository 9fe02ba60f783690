"""TLS for the robot's host names: the private CA and server certificate (:mod:`.certs`) and
the server-side TLS settings and listener (:mod:`.context`). docs/tls.md tells the story."""
