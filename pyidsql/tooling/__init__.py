"""The tools around the library, not part of its API: the ``pyidsql`` command (:mod:`.cli`), the
demo (:mod:`.demo`), the embedded PostgreSQL behind ``pyidsql up`` (:mod:`.embedded`), the
throwaway servers of the tests, demo and bench (:mod:`.pgserver`) and the reference-docs
generator (:mod:`.reference`)."""
