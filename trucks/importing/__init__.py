"""Reading a spreadsheet of trips (docs/architecture.md, "Bulk import"): the columns and their
headers in each language (``columns``), reading CSV or Excel within the limits (``reading``),
a row's cells as the trip API's input and its faults by column (``rows``), and writing the
template and the error report (``files``). Nothing here touches the database."""
