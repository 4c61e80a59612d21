"""Browser tests of the pages: headless chromium against the real stack on loopback."""
