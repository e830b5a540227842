"""The festival calendar: occurrences of the archive's festivals in the current and the next year, as a page
and as an iCalendar feed."""
