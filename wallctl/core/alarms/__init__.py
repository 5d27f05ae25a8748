"""Alarms: events in, the ISA-18.2 lifecycle, X.733 severities, flood and suppression, the list order."""
