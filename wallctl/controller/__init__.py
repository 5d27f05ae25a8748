"""The controller: Qt-free. Ingest, the journal, operator actions and what is published about them."""
