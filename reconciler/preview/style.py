"""The preview's stylesheet and fixed layout.

The portal panel is laid out in absolute pixels, so a screenshot of it has a known
geometry: tests (and anyone diffing screenshots) find the logo and the primary button at
the coordinates below whatever fonts the machine has.
"""

from __future__ import annotations

#: Size of one portal panel (and of its standalone page / screenshot), in CSS pixels.
PANEL_W, PANEL_H = 600, 440
#: The logo box in a panel: (x, y, width, height); the seed recommends a 200x50 logo.
LOGO_BOX = (24, 80, 200, 50)
#: The first self-service action button (the primary button): (x, y, width, height).
#: Further buttons follow below it every ``BUTTON_STEP`` pixels.
BUTTON_BOX = (24, 226, 250, 40)
BUTTON_STEP = 52
#: Size of one email's standalone page / screenshot (the subject bar, then the body).
EMAIL_W, EMAIL_H = 600, 720
EMAIL_BAR_H = 72
#: The whole preview page's screenshot (its top: the portal before and after).
PAGE_W, PAGE_H = 1280, 640

#: Policy of every page portalctl writes: nothing runs, nothing is fetched; images come
#: from data: URIs. A srcdoc frame inherits it, on top of its own.
PAGE_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "form-action 'none'; base-uri 'none'"
)

_BX, _BY, _BW, _BH = BUTTON_BOX
_LX, _LY, _LW, _LH = LOGO_BOX

CSS = f"""
*{{box-sizing:border-box}}
body{{margin:0;font:14px/1.4 Arial,Helvetica,sans-serif;color:#1f2937;background:#eef1f5}}
.standalone{{background:#ffffff}}
main{{padding:16px 24px}}
h1{{font-size:20px;margin:0 0 4px}} h2{{font-size:17px;margin:24px 0 8px}}
h3{{font-size:15px;margin:18px 0 6px}}
.meta{{color:#4b5563;margin:0 0 4px}}
.pair{{display:flex;gap:32px;align-items:flex-start}}
.side>.caption{{font-weight:bold;margin:0 0 6px}}
.panel{{position:relative;width:{PANEL_W}px;height:{PANEL_H}px;background:#ffffff;
 overflow:hidden;border:0;box-shadow:0 1px 4px rgba(0,0,0,.25)}}
.standalone .panel{{box-shadow:none}}
.tab{{position:absolute;left:0;top:0;width:100%;height:36px;background:#dfe3e8;
 padding:8px 12px 0}}
.tab span{{display:inline-block;max-width:320px;height:28px;padding:5px 12px;
 background:#ffffff;border-radius:6px 6px 0 0;white-space:nowrap;overflow:hidden;
 text-overflow:ellipsis}}
.url{{position:absolute;left:0;top:36px;width:100%;height:32px;background:#ffffff;
 border-bottom:1px solid #d1d5db;padding:6px 12px;color:#374151;font-size:13px;
 white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
.logo{{position:absolute;left:{_LX}px;top:{_LY}px;width:{_LW}px;height:{_LH}px}}
.logo img{{width:{_LW}px;height:{_LH}px;object-fit:contain;object-position:left center;
 display:block}}
.logo .placeholder{{width:100%;height:100%;border:2px dashed #9ca3af;color:#4b5563;
 font-size:11px;padding:4px;overflow:hidden}}
.company{{position:absolute;left:{_LX + _LW + 16}px;top:{_LY + 12}px;width:300px;
 font-size:20px;font-weight:bold;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
.hr{{position:absolute;left:0;top:146px;width:100%;height:1px;background:#e5e7eb}}
.summary{{position:absolute;left:24px;top:160px;width:540px;color:#374151}}
.summary a{{font-weight:bold}}
.btn{{position:absolute;left:{_BX}px;width:{_BW}px;height:{_BH}px;border-radius:6px;
 color:#ffffff;font-weight:bold;line-height:{_BH}px;padding-left:16px;white-space:nowrap}}
.history{{position:absolute;left:{_BX + _BW + 30}px;top:{_BY}px;width:260px}}
.history a{{display:block;margin:0 0 6px}}
.disabled{{position:absolute;left:0;top:68px;width:100%;height:{PANEL_H - 68}px;
 background:rgba(55,65,81,.82);color:#ffffff;font-size:18px;font-weight:bold;
 padding:120px 40px 0;text-align:center}}
.chg{{outline:3px solid #f59e0b;outline-offset:3px}}
.tab.chg,.url.chg{{outline-offset:-3px}}
.new{{outline:3px solid #16a34a;outline-offset:3px}}
.gone{{outline:3px dashed #dc2626;outline-offset:3px}}
.badge{{display:inline-block;font-size:11px;font-weight:bold;padding:1px 6px;
 border-radius:8px;margin-left:6px;vertical-align:middle;color:#111827}}
.badge.chg-b{{background:#fde68a}} .badge.new-b{{background:#bbf7d0}}
.badge.gone-b{{background:#fecaca}}
.changes{{margin:8px 0 0;padding-left:20px}}
.changes code{{background:#e5e7eb;padding:0 4px}}
.email{{width:{EMAIL_W}px;background:#ffffff;box-shadow:0 1px 4px rgba(0,0,0,.25)}}
.standalone .email{{box-shadow:none}}
.email.chg{{outline-offset:0}}
.subject{{height:{EMAIL_BAR_H}px;padding:8px 12px;border-bottom:1px solid #d1d5db;
 overflow:hidden}}
.subject b{{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
.email iframe{{display:block;width:{EMAIL_W}px;height:{EMAIL_H - EMAIL_BAR_H}px;border:0}}
.flag{{background:#fee2e2;color:#991b1b;padding:6px 10px;margin:6px 0;font-weight:bold}}
.note{{background:#fef3c7;padding:6px 10px;margin:6px 0}}
.pending{{height:{EMAIL_H - EMAIL_BAR_H}px;padding:24px;color:#4b5563}}
"""
