"""Reports: KPI selectors, charts, exports and the weekly KPI e-mail."""
