"""Rendered previews of the portal and its emails, live and after apply (issue 11).

``page.build_preview`` / ``page.render_page`` build the self-contained HTML page;
``browser`` finds a headless Chromium and takes the ``--png`` screenshots. Nothing here
talks to the portal API: the caller passes the live state (and the live logo's bytes).
"""
