"""Tools for robot owners and protocol researchers: simulator, replay, live fuzzing, capture.

Everything here talks to a Jibo cloud over the wire only (httpx, trio-websocket), so each
tool works against this server or any other one. The modules:

- :mod:`.target`: where the cloud is, which ``Host`` names to present, opening sockets.
- :mod:`.robot`: robot frames and REST bodies as a robot sends them (PROTOCOL.md §2.3, §4.3).
- :mod:`.sigv4`: the robot's AWS SigV4 request signing.
- :mod:`.sim_boot`, :mod:`.sim_hub`: ``jibo-cloud sim boot|turn|proactive``.
- :mod:`.flows`, :mod:`.replay`: the flow-file format and ``jibo-cloud replay``.
- :mod:`.scrub`, :mod:`.capture`: the recording proxy and its personal-data scrubber.
- :mod:`.fuzz_strategies`, :mod:`.fuzz`: ``jibo-cloud fuzz``.
- :mod:`.output`: human or JSON output, and progress lines for long runs.
"""
