"""Pages. Function views check access, then call selectors (reads) or services (changes)."""
