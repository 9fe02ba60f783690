"""The hub: ``/v1/listen`` and ``/v1/proactive`` sockets (PROTOCOL.md §4-§5).

- :mod:`.routes` registers the socket paths and checks the token before accepting.
- :mod:`.session` runs one socket: nursery, deadlines, the single writer.
- :mod:`.listen` and :mod:`.proactive` pump a socket through the pure transactions of
  :mod:`protocol.listen` / :mod:`protocol.proactive` and perform their service calls.
- :mod:`.clients` (remote parser, skills, history over HTTP), :mod:`.history` (in-process
  history) and :mod:`.manifests` (skill manifests from disk).
"""
