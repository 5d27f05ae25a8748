"""Alarm-system performance (ISA-18.2 / IEC 62682, EEMUA 191) from the journal's history, as pure folds.

The report, the wall's "alarm health" tile and the tests share these functions: rows go in one at a time, in time
order, and figures come out; nothing here knows SQLite or Qt.
"""
