"""Intake: county spreadsheets in, checked, previewed, imported, logged and undone.

`sheets` declares every importable sheet (headers, aliases, units, kinds); `templates` writes
the XLSX a county fills; `readers` turns a messy xlsx/xls/csv into text cells with their Excel
row numbers; `validate` checks them (pandera for columns and rows, pandas across rows and
against the store) and returns every error at once; `commit` previews, imports in one
transaction, logs and undoes; `city` sets a city up from its boundary file.
"""
