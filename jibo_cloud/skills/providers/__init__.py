"""Outside information the report and answers skills speak about, behind small interfaces.

Each provider is a class with one async method (``forecast``, ``headlines``, ``events``,
``summary``, ``define``), takes the runtime's long-lived HTTP client for its service
(:mod:`jibo_cloud.http_clients`), bounds each call with a trio deadline, keeps a small
time-bounded cache where answers change slowly, and raises :class:`ProviderError` for
anything that went wrong: the skills turn that into a spoken apology, never an ERROR frame.
"""
