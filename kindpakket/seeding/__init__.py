"""Test, demo and benchmark data, made in one place.

* :mod:`~kindpakket.seeding.world` — through the real use cases (audited, validated,
  notified), as the municipality, shops and families would: the demo.
* :mod:`~kindpakket.seeding.rows` — one record at a time, straight on the models and the
  ledger: the world a test starts from (``tests/factories.py`` re-exports it).
* :mod:`~kindpakket.seeding.bulk` — the same rows by the thousand, and payments written as
  the payment service writes them: benchmarks.
* :mod:`~kindpakket.seeding.bankfiles` — statements and status reports as banks send them.

It sits on the factory side of the shell (it knows every package); no actor package or
platform module imports it.
"""
