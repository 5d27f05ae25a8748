"""``wallctl report``: alarm-system performance (ISA-18.2 / EEMUA 191) from a journal, as JSON, HTML or a summary.

A composition root like ``wallctl.validate``: it reads the journal read-only (wallctl.controller.journal_read), folds
it with the core's measures (wallctl.core.measures) and writes what was asked.
"""
