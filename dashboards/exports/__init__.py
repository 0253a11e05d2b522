"""Exports of trips and scans for officials: what they hold (``columns``), writing them
(``files``), asking for and building them (``services``), reading them (``selectors``), the page
(``views``) and the API (``apis``)."""
