"""Make a near-duplicate evaluation set of documents and text-heavy pictures.

Many real documents share one template: invoices of one company, statements of one bank,
slides of one deck, screenshots of one chat app. They have the same layout, colours, fonts
and header, and differ only in their words and numbers. A near-duplicate finder must group
a document with its edited copies (recompressed, resized, cropped, rotated, screenshotted,
stamped, ...) but must NOT group two different documents made from the same template, even
though the two look alike at thumbnail size. This set tests both sides on 14 synthetic
document families; all text is assembled from the word lists below.

Per family: 5 documents, each one "original" plus 9 edited copies (one group), and 2
"same_template" negatives per document: other documents of the same family, rendered fresh
with different content, in no group. Half the families are split "calib", half "test".

    python benchmarks/make_set_docs.py OUTDIR [--seed N]

writes OUTDIR/images/NNNNNN.{jpg,png,webp} (numbering shuffled) and OUTDIR/truth.json.
Offline and seeded; needs only Pillow, numpy and the fonts bundled with matplotlib.
"""

import argparse
import calendar
import datetime as dt
import io
import json
import math
import random
import time
from collections import Counter
from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageEnhance, ImageFilter, ImageFont

Rng = random.Random
DOCS, COPIES, NEGS = 5, 9, 2
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def wl(s: str) -> list[str]:
    return s.split()


def hexes(s: str) -> list[tuple]:
    return [ImageColor.getrgb("#" + x) for x in s.split()]


FONT_LIST = """sans=DejaVuSans sansb=DejaVuSans-Bold sansi=DejaVuSans-Oblique serif=DejaVuSerif
serifb=DejaVuSerif-Bold serifi=DejaVuSerif-Italic mono=DejaVuSansMono stix=STIXGeneral
stixb=STIXGeneralBol stixi=STIXGeneralItalic cmr=cmr10 cmb=cmb10 cmti=cmti10 cmtt=cmtt10"""
FONTS = dict(x.split("=") for x in wl(FONT_LIST))
FAMS = [("sans", "sansb", "sansi"), ("serif", "serifb", "serifi"), ("stix", "stixb", "stixi")]
ACCENTS = hexes("""1f4e79 c0392b 277c4c 8e44ad d35400 168c7d 2c3e50 2980b9 a31c3a 00695c 795548
455a64 c89614 5a3ca0""")
DATEFMTS = ["%d %b %Y", "%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%b %d, %Y"]
NOUNS = wl("""account action advance agreement analysis approval area balance basis board budget
business capital case change client committee company condition contract control cost council
course credit data deal delivery demand design detail device direction division document energy
engine estimate event evidence exchange factor feature figure file finance form fund growth
health history impact income index industry interest issue item labour language level licence
limit line loan market material measure meeting member method model month network notice number
office order output owner package panel payment period plan policy portfolio position power
practice premium price process product profit program project property proposal quality quarter
range rate record region report request research resource result return review risk route
safety sale sample scale schedule scheme section sector service session share signal site
source space staff standard statement station status stock storage strategy structure study
summary supply support system target task term test time total trade training transfer trend
unit update usage value version volume water week window work year""")
VERBS = wl("""accept adjust allow apply arrange assess attach avoid build check choose collect
complete confirm consider cover create deliver describe determine develop discuss ensure expect
explain extend follow handle improve include increase indicate inform install maintain manage
monitor observe obtain offer operate prepare present produce provide publish reduce receive
recommend remain replace require resolve select send submit suggest track verify""")
ADJS = wl("""annual available basic brief central clear common current daily direct early final
formal full general global initial internal key large local main major minor monthly normal
official open original overall personal primary private public quick recent regular relevant
remote safe separate short simple single small special specific strong typical usual valid""")
FUNC = wl("the of and to in for on with by at from as this that all each any our your their new")
WORDS = NOUNS + VERBS + ADJS
FIRST = wl("""Anna Ben Carla David Elena Felix Grace Hugo Iris James Karen Liam Maria Noah Olga
Peter Quinn Rosa Samuel Tara Umar Vera Walter Xenia Yusuf Zoe Amir Bianca Conor Dana Erik Fatima
George Hana Ivan Julia Kenji Lucia Marco Nadia Oscar Priya Rafael Sofia Tomas""")
LAST = wl("""Abbott Baker Chen Dubois Evans Fischer Garcia Hansen Ito Jensen Kowalski Larsen Moreau
Novak Okafor Patel Quiroga Rossi Schmidt Tanaka Ueda Varga Weber Xu Young Zimmer Berg Costa Dahl
Ferreira Gallo Horvat Ivanova Kim Lopez Meyer Nilsson Ortiz Perez Reyes Silva Torres""")
CITIES = wl("""Aldershot Brampton Carlow Dunmore Elmstead Fairview Glenwood Harwich Ingleby Jarrow
Kingsford Lakeside Marlow Northgate Oakridge Penrith Queensbury Riverton Southport Thornbury
Upton Westfield Yarmouth Ashby Bexley Clifton Denton Easton""")
STREETS = wl("Street Road Avenue Lane Drive Way Court Place Terrace Close")
CO1 = wl("Systems Logistics Partners Consulting Holdings Industries Labs Supplies Media Analytics")
CO2 = wl("Ltd Inc LLC GmbH Co. plc Group")
ITEMS = wl("""cable adapter bracket monitor keyboard licence subscription toner paper chair desk
lamp router switch battery charger sensor valve pump filter gasket bolt panel module storage
backup cartridge headset webcam drive hinge""")
FOODS = wl("""chicken salmon beef lamb tofu mushroom tomato basil garlic lemon pepper spinach
potato risotto pasta burger salad soup curry tart cake pie sorbet cheesecake gnocchi ravioli
steak prawns halloumi falafel aubergine""")
COOK = wl("roasted grilled braised smoked crispy spiced fresh wild glazed baked")
STAMPS = wl("PAID COPY APPROVED DRAFT RECEIVED VOID URGENT FILED CONFIDENTIAL SAMPLE")


@cache
def F(name: str, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / f"{FONTS[name]}.ttf"), max(7, round(size)))


# ---------------------------------------------------------------- random text


def words(r: Rng, a: int, b: int = 0) -> str:
    n = r.randint(a, max(a, b))
    return " ".join(r.choice(FUNC) if r.random() < 0.25 else r.choice(WORDS) for _ in range(n))


def sentence(r: Rng, a: int = 6, b: int = 16) -> str:
    s = words(r, a, b)
    return s[0].upper() + s[1:] + ("." if r.random() < 0.9 else r.choice("?!:"))


def paragraph(r: Rng, a: int = 2, b: int = 5) -> str:
    return " ".join(sentence(r) for _ in range(r.randint(a, b)))


def person(r: Rng) -> str:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def company(r: Rng) -> str:
    return f"{r.choice(LAST)} {r.choice(CO1)} {r.choice(CO2)}"


def address(r: Rng) -> list[str]:
    street = f"{r.randint(1, 999)} {r.choice(WORDS).title()} {r.choice(STREETS)}"
    return [street, f"{r.choice(CITIES)} {r.randint(10000, 99999)}"]


def date(r: Rng, fmt: str) -> str:
    return (dt.date(2012, 1, 1) + dt.timedelta(r.randint(0, 4700))).strftime(fmt)


def code(r: Rng, n: int) -> str:
    return "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(n))


def hhmm(r: Rng) -> str:
    return f"{r.randint(7, 22)}:{r.randint(0, 59):02d}"


def kit(T: Rng) -> tuple:
    """Template basics: a (regular, bold, italic) font family, an accent colour, a date format."""
    return T.choice(FAMS), T.choice(ACCENTS), T.choice(DATEFMTS)


# ---------------------------------------------------------------- drawing helpers


def canvas(w: int, h: int, bg: object = "white") -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("RGB", (w, h), bg)  # type: ignore[arg-type]
    return im, ImageDraw.Draw(im)


def page(T: Rng, lo: int, hi: int, ratio: float, land: bool = False) -> tuple[int, int]:
    short = T.randint(lo, hi)
    return (round(short * ratio), short) if land else (short, round(short * ratio))


def tint(c: tuple, k: float) -> tuple:
    return tuple(round(v + (255 - v) * k) for v in c)


def rgb(r: Rng) -> tuple:
    return tuple(r.randint(0, 255) for _ in range(3))


def tx(d, x, y, t, f, c="black", a="la") -> None:
    d.text((x, y), str(t), font=f, fill=c, anchor=a)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines, cur = [], ""
    for w in text.split():
        t = f"{cur} {w}".strip()
        if cur and font.getlength(t) > width:
            lines.append(cur)
            cur = w
        else:
            cur = t
    return [*lines, cur] if cur else lines


def block(d, x, y, text, font, width, fill="black", lh=1.4, y_max=1e9) -> float:
    for line in wrap(text, font, width):
        if y + font.size > y_max:
            break
        tx(d, x, y, line, font, fill)
        y += font.size * lh
    return y


def fit(text: str, name: str, size: float, width: float) -> ImageFont.FreeTypeFont:
    while size > 8 and F(name, size).getlength(text) > width:
        size *= 0.9
    return F(name, size)


def cut(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    while text and font.getlength(text) > width:
        text = text[:-2]
    return text


def squiggle(d, x, y, s, r, n=12, c=(20, 30, 110)) -> None:
    d.line([(x + i * s * 0.75, y - r.uniform(0, 1.8) * s) for i in range(n)], fill=c, width=2)


# ---------------------------------------------------------------- document families
# A family draws from T (the template RNG: the same sequence for every document of the family)
# only at its top, so size, layout, colours, fonts and header are fixed; R gives the content.


def fam_invoice(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 700, 1240, 1.414)
    (fr, fb, _), acc, fmt = kit(T)
    s, band, nrow, cur = w / T.uniform(55, 72), T.random() < 0.5, T.randint(6, 12), T.choice("$€£")
    co, coad, tax, zebra = company(T), address(T), T.randint(5, 21), T.random() < 0.5
    terms, vat = sentence(T, 8, 14), code(T, 9)
    im, d = canvas(w, h)
    m, hh, hc = w // 14, h // 9, "white" if band else acc
    if band:
        d.rectangle([0, 0, w, hh], fill=acc)
    d.ellipse([m, hh / 2 - s * 1.5, m + 3 * s, hh / 2 + s * 1.5], outline=hc, width=round(s / 4))
    tx(d, m + 4 * s, hh / 2, co, F(fb, s * 1.6), hc, "lm")
    tx(d, w - m, hh / 2, "INVOICE", F(fb, s * 2), hc, "rm")
    for i, t in enumerate([*coad, f"VAT {vat}"]):
        tx(d, w - m, hh + s * (2 + 1.4 * i), t, F(fr, s), "#555", "ra")
    tx(d, m, hh + s * 2, "Bill to", F(fb, s), acc)
    for i, t in enumerate([person(R), company(R), *address(R)]):
        tx(d, m, hh + s * (3.4 + 1.4 * i), t, F(fr, s))
    y = hh + s * 11
    for k, v in [("Invoice no.", code(R, 8)), ("Date", date(R, fmt)), ("Due date", date(R, fmt))]:
        tx(d, w * 0.55, y, k, F(fb, s), "#333")
        tx(d, w - m, y, v, F(fr, s), a="ra")
        y += s * 1.5
    y += s * 1.5
    xs = [m + s / 2, w * 0.6, w * 0.76, w - m - s / 2]
    d.rectangle([m, y, w - m, y + s * 2.2], fill=tint(acc, 0.8))
    for x, t in zip(xs, ["Description", "Qty", "Unit price", "Amount"], strict=True):
        tx(d, x, y + s * 1.1, t, F(fb, s), a="rm" if x > m + s else "lm")
    y += s * 2.2
    total = 0.0
    for i in range(nrow + R.randint(-2, 2)):
        q, u = R.randint(1, 24), R.uniform(3, 400)
        total += q * u
        if zebra and i % 2:
            d.rectangle([m, y, w - m, y + s * 2], fill="#f4f4f4")
        row = [f"{R.choice(ADJS)} {R.choice(ITEMS)} {code(R, 3)}", q, f"{u:,.2f}", f"{q * u:,.2f}"]
        for x, t in zip(xs, row, strict=True):
            tx(d, x, y + s, t, F(fr, s), a="rm" if x > m + s else "lm")
        y += s * 2
    d.line([m, y, w - m, y], fill=acc, width=2)
    for k, v in [("Subtotal", 1), (f"Tax {tax}%", tax / 100), ("Total", 1 + tax / 100)]:
        f = F(fb, s * 1.3) if k == "Total" else F(fr, s)
        tx(d, xs[2], y + s, k, f, a="ra")
        tx(d, xs[3], y + s, f"{cur}{total * v:,.2f}", f, acc if k == "Total" else "black", "ra")
        y += s * 1.8
    y = block(d, m, max(y + s * 2, h * 0.8), "Payment terms: " + terms, F(fr, s * 0.9), w - 2 * m)
    iban = f"Reference {code(R, 10)}   IBAN XX{R.randint(10, 99)} {code(R, 16)}"
    tx(d, m, y + s, iban, F(fr, s * 0.9), "#555")
    d.line([m, h - 2 * s, w - m, h - 2 * s], fill=acc, width=1)
    return im


def fam_receipt(T: Rng, R: Rng) -> Image.Image:
    w, h, s = T.randint(500, 580), T.randint(1300, 1650), T.randint(13, 17)
    f = T.choice(["mono", "cmtt"])
    bg, store, ad = T.choice(["#fff", "#faf7ee", "#f4f4f4"]), company(T).upper(), address(T)
    tax = T.randint(5, 20)
    fmt, nrow, phone = T.choice(DATEFMTS), T.randint(7, 15), code(T, 10)
    im, d = canvas(w, h, bg)
    m, cx, y, ft, fl = w // 12, w // 2, 2.5 * s, F(f, s), F(f, s * 1.3)
    fs = fit(store, f, s * 1.6, w - 2 * m)
    d.text((cx, y), store, font=fs, fill="black", anchor="ma", stroke_width=1)
    for i, line in enumerate([*ad, f"Tel {phone}"]):
        tx(d, cx, y + s * (2.5 + 1.5 * i), line, ft, a="ma")
    rule = "-" * int((w - 2 * m) / ft.getlength("-"))
    y += s * 8.5
    tx(d, m, y, f"{date(R, fmt)}  {hhmm(R)}", ft)
    tx(d, w - m, y, f"#{R.randint(1000, 99999)}", ft, a="ra")
    tx(d, m, y + s * 1.5, f"Cashier: {R.choice(FIRST)}", ft)
    y += s * 3
    tx(d, m, y, rule, ft)
    tot = 0.0
    for _ in range(nrow + R.randint(-2, 2)):
        y += s * 1.45
        q, p = R.randint(1, 4), R.uniform(0.5, 40)
        tot += q * p
        tx(d, m, y, f"{q} {R.choice(FOODS + ITEMS)[:14].upper()}", ft)
        tx(d, w - m, y, f"{q * p:.2f}", ft, a="ra")
    tx(d, m, y + s * 1.5, rule, ft)
    y += s * 1.5
    for k, v in [("SUBTOTAL", 1), (f"TAX {tax}%", tax / 100), ("TOTAL", 1 + tax / 100)]:
        y += s * 1.6
        tx(d, m, y, k, fl if k == "TOTAL" else ft)
        tx(d, w - m, y, f"{tot * v:.2f}", fl if k == "TOTAL" else ft, a="ra")
    y += s * 2.5
    for line in [f"CARD ********{R.randint(1000, 9999)}", f"AUTH {code(R, 6)}", "", "THANK YOU"]:
        tx(d, cx, y, line, ft, a="ma")
        y += s * 1.5
    x = m
    while x < w - m:
        bw = R.choice([1, 2, 3, 4])
        if R.random() < 0.55:
            d.rectangle([x, y + s, x + bw - 1, y + 5 * s], fill="black")
        x += bw
    tx(d, cx, y + 5.5 * s, code(R, 13), ft, a="ma")
    return im


def fam_letter(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 750, 1200, 1.414)
    (fr, fb, fi), acc, fmt = kit(T)
    s, co, coad, web = w / T.uniform(55, 68), company(T), address(T), T.choice(WORDS)
    right = T.random() < 0.5
    im, d = canvas(w, h)
    m = w // 9
    top = m * 0.6
    d.rectangle([m, top, m + s * 2.4, top + s * 2.4], fill=acc)
    tx(d, m + s * 3.2, top + s * 1.2, co, F(fb, s * 1.8), acc, "lm")
    d.line([m, top + s * 3.4, w - m, top + s * 3.4], fill=acc, width=max(2, round(s / 5)))
    y = top + s * 5
    tx(d, w - m if right else m, y, date(R, fmt), F(fr, s), a="ra" if right else "la")
    first = R.choice(FIRST)
    for i, line in enumerate([f"{first} {R.choice(LAST)}", company(R), *address(R)]):
        tx(d, m, y + s * (2.5 + 1.4 * i), line, F(fr, s))
    tx(d, m, y + s * 10, f"Re: {words(R, 3, 6).title()}", F(fb, s))
    tx(d, m, y + s * 12.4, f"Dear {first},", F(fr, s))
    y += s * 14.6
    for _ in range(R.randint(3, 5)):
        y = block(d, m, y, paragraph(R, 2, 5), F(fr, s), w - 2 * m, "black", 1.45, h - 13 * s) + s
    tx(d, m, y + s, "Yours sincerely,", F(fr, s))
    squiggle(d, m, y + s * 5, s, R)
    tx(d, m, y + s * 6.2, person(R), F(fb, s))
    tx(d, m, y + s * 7.6, words(R, 2, 3).title(), F(fi, s), "#444")
    d.line([m, h - m * 0.9, w - m, h - m * 0.9], fill=acc)
    foot = f"{co}  |  {', '.join(coad)}  |  www.{web}.example"
    tx(d, w / 2, h - m * 0.75, foot, fit(foot, fr, s * 0.8, w - 2 * m), "#666", "ma")
    return im


FIELDS = wl("""Surname Given_names Date_of_birth Street_address City Postcode Phone Email
Occupation Employer Account_number Reference Amount Start_date Nationality Member_number
Department Policy_number End_date Contact_person""")
OPTS = wl("Full_time Part_time Renewal Paper_copy Updates Urgent")


def field_value(label: str, r: Rng, fmt: str) -> str:
    lo = label.lower()
    if "date" in lo:
        return date(r, fmt)
    if "mail" in lo:
        return f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}@{r.choice(WORDS)}.example"
    if "phone" in lo:
        return f"+{r.randint(1, 99)} {r.randint(100, 999)} {r.randint(1000000, 9999999)}"
    if "amount" in lo:
        return f"{r.uniform(10, 90000):,.2f}"
    if "number" in lo or "reference" in lo or "postcode" in lo:
        return code(r, r.randint(6, 11))
    if "name" in lo or "person" in lo:
        return r.choice(LAST if "Sur" in label else FIRST)
    if "address" in lo:
        return address(r)[0]
    return r.choice(CITIES) if "City" in label else words(r, 1, 3).title()


def fam_form(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 800, 1200, 1.35)
    (fr, fb, _), acc, fmt = kit(T)
    s, kind = w / T.uniform(60, 75), T.choice(wl("Application Registration Claim Enrolment"))
    title, org = f"{kind} Form {code(T, 2)}-{T.randint(10, 99)}", company(T)
    intro = sentence(T, 10, 16)
    labels, opts, two = T.sample(FIELDS, T.randint(10, 16)), T.sample(OPTS, 4), T.random() < 0.6
    vf, ink, ref = T.choice(wl("mono sansi cmti serifi")), T.choice(["#14207a", "#111"]), code(T, 4)
    im, d = canvas(w, h)
    m = w // 12
    d.rectangle([m, m * 0.6, w - m, m * 0.6 + s * 3.4], fill=acc)
    tx(d, m + s, m * 0.6 + s * 1.7, title, F(fb, s * 1.6), "white", "lm")
    tx(d, w - m - s, m * 0.6 + s * 1.7, org, F(fr, s * 0.9), "white", "rm")
    intro = "Please complete all sections. " + intro
    y = block(d, m, m * 0.6 + s * 5, intro, F(fr, s * 0.9), w - 2 * m, "#555")
    cw = (w - 2 * m - s) / 2 if two else w - 2 * m
    for i, lab in enumerate(labels):
        x = m + (i % 2) * (cw + s) if two else m
        tx(d, x, y + s, lab.replace("_", " "), F(fb, s * 0.85), "#444")
        d.rectangle([x, y + s * 2.3, x + cw, y + s * 4.5], outline=tint(acc, 0.3), width=1)
        val = field_value(lab, R, fmt)
        tx(d, x + s * 0.5, y + s * 3.4, val, fit(val, vf, s * 1.1, cw - s), ink, "lm")
        y += s * 4.6 if not two or i % 2 or i == len(labels) - 1 else 0
    tx(d, m, y + s * 2, "Options", F(fb, s), acc)
    y += s * 4
    for j, o in enumerate(opts):
        x = m + j * (w - 2 * m) / 4
        d.rectangle([x, y, x + s * 1.2, y + s * 1.2], outline="black", width=1)
        if R.random() < 0.5:
            d.line([(x + s * 0.2, y + s * 0.6), (x + s / 2, y + s), (x + s, y)], fill=ink, width=2)
        tx(d, x + s * 1.7, y + s * 0.6, o.replace("_", " "), F(fr, s * 0.9), a="lm")
    y = max(y + s * 4, h - s * 9)
    d.line([m, y + s * 3, m + w * 0.35, y + s * 3], fill="black")
    tx(d, m, y + s * 3.4, "Signature", F(fr, s * 0.8), "#555")
    squiggle(d, m + s, y + s * 2.6, s, R, 10, ink)
    tx(d, w - m, y + s * 2.6, date(R, fmt), F(vf, s * 1.1), ink, "ra")
    tx(d, m, h - s * 2, f"Form {ref}", F(fr, s * 0.75), "#888")
    return im


HEADS = wl("Region Product Q1 Q2 Q3 Units Price Total Date Status Owner Code Margin Cost Budget")
TEXTCOLS = wl("Region Product Owner Status Code")


def cell(hd: str, r: Rng, fmt: str) -> str:
    v = {"Region": r.choice(CITIES), "Product": r.choice(ITEMS).title(), "Owner": r.choice(LAST),
         "Date": date(r, fmt), "Status": r.choice(wl("Open Closed Pending Late")),
         "Code": code(r, 5), "Units": str(r.randint(1, 9999))}  # fmt: skip
    return v.get(hd) or f"{r.uniform(0, 99999):,.2f}"


def fam_sheet(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 700, 1050, T.uniform(1.4, 1.7), land=True)
    s, acc = T.randint(9, 12), T.choice([(33, 115, 70), (43, 87, 154), (90, 90, 90), (180, 90, 20)])
    heads, nrow, book = T.sample(HEADS, T.randint(6, 10)), T.randint(14, 30), T.choice(WORDS)
    fmt, stripe = T.choice(DATEFMTS), T.random() < 0.5
    im, d = canvas(w, h)
    fn, fb = F("sans", s), F("sansb", s)
    d.rectangle([0, 0, w, s * 3], fill=acc)
    tx(d, s, s * 1.5, f"{book.title()} {date(R, '%Y')}.xlsx", F("sans", s * 1.2), "white", "lm")
    d.rectangle([0, s * 3, w, s * 5.5], fill="#f3f3f3")
    tx(d, s, s * 4.25, f"{chr(65 + R.randint(0, 5))}{R.randint(2, 20)}", fn, a="lm")
    tx(d, s * 6, s * 4.25, f"=SUM({code(R, 1)}2:{code(R, 1)}{R.randint(5, 40)})", fn, a="lm")
    top, rh, rw = s * 5.5, s * 1.9, s * 3.2
    xs = [rw]
    for hd in heads:
        xs.append(xs[-1] + s * (9 if hd in TEXTCOLS else 6.5))
    d.rectangle([0, top, w, top + rh], fill="#e6e6e6")
    d.rectangle([0, top, rw, h], fill="#e6e6e6")
    for j in range(len(heads)):
        tx(d, (xs[j] + xs[j + 1]) / 2, top + rh / 2, chr(65 + j), fn, "#555", "mm")
    n, rows = nrow + R.randint(-2, 2), int((h - top) / rh)
    for i in range(rows):
        y = top + (i + 1) * rh
        tx(d, rw / 2, y + rh / 2, i + 1, fn, "#555", "mm")
        if i == 0 or (stripe and i % 2 and i <= n):
            d.rectangle([rw, y, xs[-1], y + rh], fill=tint(acc, 0.75 if i == 0 else 0.93))
        for j, hd in enumerate(heads if i <= n else []):
            left = i == 0 or hd in TEXTCOLS
            x = xs[j] + s / 2 if left else xs[j + 1] - s / 2
            v, f = (hd, fb) if i == 0 else (cell(hd, R, fmt), fn)
            tx(d, x, y + rh / 2, v, f, a="lm" if left else "rm")
    for x in xs:
        d.line([x, top, x, h], fill="#d2d2d2")
    for i in range(rows + 1):
        d.line([0, top + i * rh, w, top + i * rh], fill="#d2d2d2")
    return im


def code_lines(R: Rng, n: int) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    ind = 0

    def ident() -> str:
        return "_".join(R.choice(NOUNS + VERBS) for _ in range(R.randint(1, 2)))

    for _ in range(n):
        x, pre = R.random(), ("    " * ind, "p")
        if x < 0.1:
            out.append([])
            ind = max(0, ind - R.randint(0, 2))
        elif x < 0.2:
            out.append([pre, ("def ", "kw"), (ident(), "fn"), (f"({ident()}, {ident()}):", "p")])
        elif x < 0.3:
            op, num = R.choice([" > ", " == ", " <= "]), str(R.randint(0, 999))
            kw = R.choice(["if ", "while "])
            out.append([pre, (kw, "kw"), (ident(), "id"), (op, "p"), (num, "n"), (":", "p")])
        elif x < 0.38:
            a, b = (ident(), "id"), (ident(), "id")
            out.append([pre, ("for ", "kw"), a, (" in ", "kw"), b, (":", "p")])
        elif x < 0.52:
            out.append([pre, ("# " + words(R, 3, 9), "cm")])
        elif x < 0.6:
            out.append([pre, ("return ", "kw"), (ident(), "id")])
        else:
            arg = (repr(words(R, 1, 3)), "st") if R.random() < 0.5 else (str(R.randint(0, 99)), "n")
            call = [(ident(), "fn"), ("(", "p"), (ident(), "id"), (", ", "p"), arg, (")", "p")]
            out.append([pre, (ident(), "id"), (" = ", "p"), *call])
        ind = min(ind + 1, 4) if 0.1 < x < 0.38 else max(0, ind - 1) if 0.52 < x < 0.6 else ind
    return out


THEMES = [
    dict(zip(wl("bg p kw fn id st n cm"), hexes(t), strict=True))
    for t in ["1e1e24 dcdcdc c678dd 61afef e06c75 98c379 d19a66 6e7681",
              "272822 f8f8f2 f92672 a6e22e f8f8f2 e6db74 ae81ff 75715e",
              "ffffff 1e1e1e 0000c8 795e26 001080 a31515 098658 008000",
              "fdf6e3 586e75 859900 268bd2 657b83 2aa198 d33682 93a1a1"]
]  # fmt: skip


def fam_code(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 700, 1100, T.uniform(1.3, 1.6), land=T.random() < 0.6)
    f, s, th, ext = T.choice(wl("mono mono cmtt")), T.randint(10, 15), T.choice(THEMES), ".py"
    lh = s * T.uniform(1.3, 1.6)
    im, d = canvas(w, h, th["bg"])
    ft, bar, side = F(f, s), s * 2.6, tint(th["bg"], 0.08) if sum(th["bg"]) < 300 else "#ececec"
    d.rectangle([0, 0, w, bar], fill=side)
    name = "_".join(R.choice(NOUNS) for _ in range(2)) + ext
    d.rectangle([0, 0, F("sans", s).getlength(name) + 3 * s, bar], fill=th["bg"])
    tx(d, s * 1.5, bar / 2, name, F("sans", s), th["p"], "lm")
    gut = ft.getlength("0000") + s
    d.rectangle([0, bar, gut, h], fill=side)
    for i, spans in enumerate(code_lines(R, int((h - bar - s) / lh))):
        y = bar + s / 2 + i * lh
        tx(d, gut - s / 2, y, i + 1, ft, th["cm"], "ra")
        x = gut + s
        for text, tag in spans:
            tx(d, x, y, text, ft, th[tag])
            x += ft.getlength(text)
    return im


def fam_chat(T: Rng, R: Rng) -> Image.Image:
    w = T.randint(500, 720)
    h, s, acc = round(w * T.uniform(1.9, 2.15)), w / T.uniform(28, 36), T.choice(ACCENTS)
    bg, (fr, fb, _) = T.choice(["#ece5dd", "#ffffff", "#f0f2f5"]), T.choice(FAMS[:2])
    mine, theirs = T.choice([tint(acc, 0.75), acc]), T.choice(["#fff", "#e9e9eb"])
    im, d = canvas(w, h, bg)
    d.rectangle([0, 0, w, s * 5], fill=acc)
    tx(d, s, s * 0.9, hhmm(R), F(fb, s * 0.7), "white", "lm")
    d.ellipse([s * 2, s * 2, s * 4.6, s * 4.6], fill=rgb(R))
    tx(d, s * 5.3, s * 2.6, person(R), F(fb, s), "white", "lm")
    status = R.choice(["online", "typing...", f"last seen {R.randint(1, 59)} min ago"])
    tx(d, s * 5.3, s * 4, status, F(fr, s * 0.7), "white", "lm")
    y, ft = s * 6.5, F(fr, s)
    while y < h - s * 10:
        me = R.random() < 0.5
        lines = wrap(sentence(R, 2, 18), ft, w * 0.68 - 2 * s)
        bw = max(ft.getlength(t) for t in lines) + s * 4.5
        bh = len(lines) * s * 1.3 + s * 1.6
        x0, tc = (w - s - bw, "white" if sum(mine) < 400 else "black") if me else (s, "black")
        d.rounded_rectangle([x0, y, x0 + bw, y + bh], radius=s * 0.8, fill=mine if me else theirs)
        for k, t in enumerate(lines):
            tx(d, x0 + s, y + s * 0.6 + k * s * 1.3, t, ft, tc)
        tx(d, x0 + bw - s * 0.5, y + bh - s * 0.4, hhmm(R), F(fr, s * 0.55), tc, "rd")
        y += bh + s * R.choice([0.5, 1.2])
    d.rectangle([0, h - s * 4, w, h], fill="#f6f6f6")
    box = [s, h - s * 3.2, w - s * 4.5, h - s * 0.8]
    d.rounded_rectangle(box, radius=s * 1.2, fill="white", outline="#d2d2d2")
    tx(d, s * 2, h - s * 2, "Message", ft, "#969696", "lm")
    d.ellipse([w - s * 3.8, h - s * 3.4, w - s * 0.8, h - s * 0.6], fill=acc)
    return im


def fam_email(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 700, 1000, T.uniform(1.45, 1.7), land=True)
    (fr, fb, _), acc, fmt = kit(T)
    s, app = T.randint(11, 14), T.choice(wl("Mail Inbox Post"))
    more = T.sample(wl("Spam Work Bills Travel"), 2)
    folders = ["Inbox", "Starred", "Sent", "Drafts", *more, "Trash"]
    im, d = canvas(w, h)
    d.rectangle([0, 0, w, s * 3.5], fill=acc)
    tx(d, s, s * 1.75, app, F(fb, s * 1.4), "white", "lm")
    d.rounded_rectangle([w * 0.25, s * 0.7, w * 0.65, s * 2.8], radius=s, fill=tint(acc, 0.25))
    tx(d, w * 0.25 + s, s * 1.75, "Search mail", F(fr, s), "white", "lm")
    p1, p2 = w * 0.16, w * 0.44
    d.rectangle([0, s * 3.5, p1, h], fill="#f5f5f7")
    for i, fo in enumerate(folders):
        y = s * 5 + i * s * 2.2
        if i == 0:
            d.rectangle([0, y - s * 0.7, p1, y + s * 1.3], fill=tint(acc, 0.8))
        tx(d, s, y, fo, F(fb if i == 0 else fr, s))
        if R.random() < 0.6:
            tx(d, p1 - s, y, R.randint(1, 240), F(fr, s * 0.85), "#5a5a5a", "ra")
    d.line([p1, s * 3.5, p1, h], fill="#ddd")
    d.line([p2, s * 3.5, p2, h], fill="#ddd")
    y, sel, lw, fs = s * 3.5, R.randint(0, 3), p2 - p1 - 2 * s, F(fr, s * 0.85)
    while y < h - s * 4:
        if sel == 0:
            d.rectangle([p1 + 1, y, p2 - 1, y + s * 5], fill=tint(acc, 0.88))
        sel -= 1
        tx(d, p1 + s, y + s * 0.6, person(R), F(fb, s))
        tx(d, p2 - s, y + s * 0.6, date(R, fmt), F(fr, s * 0.8), "#5a5a5a", "ra")
        tx(d, p1 + s, y + s * 2, cut(words(R, 3, 7).capitalize(), F(fr, s), lw), F(fr, s))
        tx(d, p1 + s, y + s * 3.4, cut(sentence(R, 6, 12), fs, lw), fs, "#777")
        y += s * 5
        d.line([p1, y, p2, y], fill="#e6e6e6")
    x, rw = p2 + s * 1.5, w - p2 - s * 3
    y = block(d, x, s * 5, words(R, 4, 9).capitalize(), F(fb, s * 1.5), rw, "black", 1.3)
    d.ellipse([x, y + s * 0.5, x + s * 2.6, y + s * 3.1], fill=rgb(R))
    sender = person(R)
    who = f"{sender} <{sender.split()[0].lower()}@{R.choice(WORDS)}.example>"
    tx(d, x + s * 3.4, y + s * 0.6, who, F(fb, s))
    tx(d, x + s * 3.4, y + s * 2, f"to me   {date(R, fmt)} {hhmm(R)}", fs, "#666")
    tx(d, x, y + s * 5, f"Hi {R.choice(FIRST)},", F(fr, s))
    y += s * 7
    for _ in range(R.randint(2, 4)):
        y = block(d, x, y, paragraph(R, 1, 4), F(fr, s), rw, "black", 1.45, h - s * 4) + s
    tx(d, x, min(y, h - s * 3), f"Best, {sender.split()[0]}", F(fr, s))
    return im


def fam_slide(T: Rng, R: Rng) -> Image.Image:
    h = T.randint(540, 1080)
    w, dark, ((fr, fb, _), acc, _) = round(h * 16 / 9), T.random() < 0.3, kit(T)
    light = T.choice([(255, 255, 255), (248, 246, 240), tint(acc, 0.94)])
    bg, fg = ((28, 32, 40), (235, 235, 235)) if dark else (light, (30, 30, 30))
    band, chart, foot = T.random() < 0.5, T.random() < 0.5, f"{company(T)}  |  Internal"
    logo = T.randint(3, 7)
    s, m = h / 26, w * 0.06
    im, d = canvas(w, h, bg)
    title = words(R, 3, 7).title()
    if band:
        d.rectangle([0, 0, w, h * 0.2], fill=acc)
    else:
        d.rectangle([m, h * 0.17, m + w * 0.12, h * 0.17 + s * 0.3], fill=acc)
    tx(d, m, h * 0.1, title, fit(title, fb, s * 2.2, w - 2 * m), "white" if band else acc, "lm")
    bw, y, fs = (w * 0.5 if chart else w - 2 * m) - m, h * 0.27, F(fr, s * 1.1)
    for _ in range(R.randint(3, 6)):
        d.ellipse([m, y + s * 0.45, m + s * 0.6, y + s * 1.05], fill=acc)
        y = block(d, m + s * 1.4, y, sentence(R, 4, 14), fs, bw, fg, 1.3, h * 0.86) + s * 0.8
    if chart:
        x0, y0, cw, ch = w * 0.56, h * 0.3, w * 0.38, h * 0.5
        vals = [R.uniform(0.1, 1) for _ in range(R.randint(4, 7))]
        b = cw / len(vals)
        for i, v in enumerate(vals):
            x, c = x0 + i * b, tint(acc, 0.5 * (i % 2))
            d.rectangle([x + b * 0.15, y0 + ch * (1 - v), x + b * 0.85, y0 + ch], fill=c)
            tx(d, x + b / 2, y0 + ch + s * 0.4, R.randint(2010, 2030), F(fr, s * 0.8), fg, "ma")
        d.line([x0, y0 + ch, x0 + cw, y0 + ch], fill=fg, width=2)
    d.line([m, h * 0.92, w - m, h * 0.92], fill=tint(acc, 0.4))
    tx(d, m, h * 0.955, foot, F(fr, s * 0.7), fg, "lm")
    d.regular_polygon((w - m - s * 3, h * 0.955, s * 0.7), logo, fill=acc)
    tx(d, w - m, h * 0.955, R.randint(2, 40), F(fr, s * 0.8), fg, "rm")
    return im


def fam_calendar(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 800, 1200, T.uniform(1.25, 1.45), land=T.random() < 0.6)
    (fr, fb, _), acc, _ = kit(T)
    first, headbg, pal = T.choice([0, 6]), T.random() < 0.5, T.sample(ACCENTS, 4)
    s, year, month = min(w, h) / T.uniform(45, 60), R.randint(2015, 2032), R.randint(1, 12)
    im, d = canvas(w, h)
    m, fe = w * 0.04, F(fr, s * 0.8)
    if headbg:
        d.rectangle([0, 0, w, h * 0.11], fill=acc)
    title = f"{calendar.month_name[month]} {year}"
    tx(d, m, h * 0.055, title, F(fb, s * 2.4), "white" if headbg else acc, "lm")
    weeks = calendar.Calendar(first).monthdayscalendar(year, month)
    top, cw = h * 0.15, (w - 2 * m) / 7
    ch = (h - top - m - s * 2) / len(weeks)
    for j in range(7):
        day = calendar.day_abbr[(first + j) % 7]
        tx(d, m + (j + 0.5) * cw, top, day, F(fb, s), "#5a5a5a", "ma")
    for i, wk in enumerate(weeks):
        for j, day in enumerate(wk):
            x, y = m + j * cw, top + s * 2 + i * ch
            wkend = day and calendar.weekday(year, month, day) >= 5
            fill = "#f6f6f6" if wkend or not day else "white"
            d.rectangle([x, y, x + cw, y + ch], fill=fill, outline="#c8c8c8")
            if not day:
                continue
            tx(d, x + s * 0.5, y + s * 0.4, day, F(fb, s * 1.1), acc if wkend else "black")
            for k in range(R.choice([0, 0, 0, 1, 1, 2])):
                ey = y + s * 2 + k * s * 1.7
                if ey + s * 1.5 < y + ch:
                    box = [x + s * 0.3, ey, x + cw - s * 0.3, ey + s * 1.5]
                    d.rounded_rectangle(box, radius=s * 0.3, fill=tint(R.choice(pal), 0.55))
                    t = f"{R.randint(7, 19)}:{R.choice(['00', '30'])} {words(R, 1, 2)}"
                    tx(d, x + s * 0.6, ey + s * 0.75, cut(t, fe, cw - s), fe, a="lm")
    return im


def fam_statement(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 800, 1240, 1.414)
    (fr, fb, _), acc, fmt = kit(T)
    s, bank = w / T.uniform(82, 100), f"{T.choice(LAST)} {T.choice(wl('Bank Savings Trust'))}"
    nrow = T.randint(26, 40)
    small, sides = paragraph(T, 3, 4), T.randint(3, 8)
    im, d = canvas(w, h)
    m = w / 14
    d.regular_polygon((m + s * 2, m + s * 1.5, s * 2), sides, fill=acc)
    tx(d, m + s * 5, m + s * 1.5, bank, F(fb, s * 2.4), acc, "lm")
    tx(d, w - m, m + s * 1.5, "Account statement", F(fr, s * 1.5), "#3c3c3c", "rm")
    for i, line in enumerate([person(R).upper(), *address(R)]):
        tx(d, m, m + s * (5 + 1.5 * i), line, F(fr, s * 1.1))
    period = f"{date(R, fmt)} - {date(R, fmt)}"
    info = [("Account", code(R, 8)), ("Sort code", f"{R.randint(10, 99)}-{code(R, 2)}"),
            ("Period", period), ("Page", f"1 of {R.randint(1, 4)}")]  # fmt: skip
    for i, (k, v) in enumerate(info):
        tx(d, w * 0.55, m + s * (5 + i * 1.5), k, F(fb, s), "#464646")
        tx(d, w - m, m + s * (5 + i * 1.5), v, F(fr, s), a="ra")
    y, bal = m + s * 12, R.uniform(-500, 20000)
    d.rectangle([m, y, w - m, y + s * 4], fill=tint(acc, 0.9))
    for j, k in enumerate(["Opening balance", "Money in", "Money out", "Closing balance"]):
        x = m + s + j * (w - 2 * m) / 4
        tx(d, x, y + s * 0.6, k, F(fr, s * 0.9), "#464646")
        tx(d, x, y + s * 2, f"{R.uniform(0, 30000):,.2f}", F(fb, s * 1.2))
    y += s * 5.5
    cols, anc = [m + s, w * 0.16, w * 0.62, w * 0.74, w - m - s], wl("la la ra ra ra")
    for x, t, a in zip(cols, ["Date", "Description", "Out", "In", "Balance"], anc, strict=True):
        tx(d, x, y, t, F(fb, s), acc, a)
    y += s * 1.6
    d.line([m, y, w - m, y], fill=acc)
    for _ in range(nrow + R.randint(-2, 2)):
        amt = R.uniform(2, 2500) * (1 if R.random() < 0.3 else -1)
        bal += amt
        kind = R.choice(wl("CARD DD TFR ATM SO"))
        desc = f"{kind} {R.choice(LAST)} {R.choice(NOUNS)} {code(R, 4)}"
        out, inn = (f"{-amt:,.2f}", "") if amt < 0 else ("", f"{amt:,.2f}")
        row = [date(R, fmt), desc.upper(), out, inn, f"{bal:,.2f}"]
        for x, t, a in zip(cols, row, anc, strict=True):
            tx(d, x, y + s * 0.5, t, F(fr, s), a=a)
        y += s * 1.8
        if y > h - s * 10:
            break
    d.line([m, y + s * 0.5, w - m, y + s * 0.5], fill=acc)
    block(d, m, h - s * 7, small, F(fr, s * 0.8), w - 2 * m, "#6e6e6e", 1.35)
    return im


def fam_certificate(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 700, 1000, 1.414, land=True)
    acc, gold = T.choice(ACCENTS), T.choice([(184, 150, 60), (160, 160, 170), (150, 90, 50)])
    fr, fb, fi = T.choice([FAMS[1], FAMS[2], ("cmr", "cmb", "cmti")])
    title = "Certificate of " + T.choice(wl("Achievement Completion Excellence Participation"))
    org, bg, rays = company(T), T.choice(["#fff", "#fdfaf0", "#f7fafc"]), T.randint(16, 28)
    s = h / 40
    im, d = canvas(w, h, bg)
    d.rectangle([s, s, w - s, h - s], outline=acc, width=round(s * 0.8))
    d.rectangle([s * 2.2, s * 2.2, w - s * 2.2, h - s * 2.2], outline=gold, width=round(s * 0.2))
    for cx in (s * 2.2, w - s * 2.2):
        for cy in (s * 2.2, h - s * 2.2):
            d.regular_polygon((cx, cy, s * 1.4), 4, rotation=45, fill=gold)
    tx(d, w / 2, h * 0.14, org.upper(), F(fr, s * 1.1), "#5a5a5a", "ma")
    tx(d, w / 2, h * 0.22, title, fit(title, fb, s * 3, w * 0.8), acc, "ma")
    tx(d, w / 2, h * 0.37, "This is to certify that", F(fi, s * 1.2), "#464646", "ma")
    tx(d, w / 2, h * 0.44, person(R), F(fi, s * 3), a="ma")
    d.line([w * 0.25, h * 0.55, w * 0.75, h * 0.55], fill=gold, width=2)
    why = wrap(f"for {words(R, 8, 16)} in the {words(R, 2, 3)} programme", F(fr, s * 1.1), w * 0.6)
    for i, t in enumerate(why[:3]):
        tx(d, w / 2, h * 0.59 + i * s * 1.6, t, F(fr, s * 1.1), "#323232", "ma")
    for x in (w * 0.25, w * 0.75):
        squiggle(d, x - s * 4, h * 0.8, s, R, 11)
        d.line([x - s * 5, h * 0.8 + s * 0.4, x + s * 5, h * 0.8 + s * 0.4], fill="black")
        tx(d, x, h * 0.8 + s * 0.9, person(R), F(fr, s), a="ma")
        tx(d, x, h * 0.8 + s * 2.2, words(R, 1, 2).title(), F(fi, s * 0.85), "#5a5a5a", "ma")
    d.regular_polygon((w / 2, h * 0.8, s * 3.2), rays, fill=gold)
    d.circle((w / 2, h * 0.8), s * 2.4, outline="white", width=2)
    no = f"{date(R, '%d %B %Y')}  -  No. {code(R, 8)}"
    tx(d, w / 2, h * 0.88, no, F(fr, s * 0.8), "#5a5a5a", "ma")
    return im


COURSES = wl("Starters Soups Salads Mains Pasta Grill Desserts Drinks")


def fam_menu(T: Rng, R: Rng) -> Image.Image:
    w, h = page(T, 650, 1000, T.uniform(1.35, 1.6))
    (fr, fb, fi), acc, _ = kit(T)
    dark, cur, nitem, dots = T.random() < 0.35, T.choice("$€£"), T.randint(3, 5), T.random() < 0.6
    bg, fg = ("#191c1e", "#ebe6dc") if dark else (T.choice(["#fffdf5", "#fafafa"]), "#1e1e1e")
    acc = T.choice([(200, 160, 80), (190, 120, 100)]) if dark else acc
    name, secs = f"{T.choice(wl('The Chez Casa'))} {T.choice(LAST)}", T.sample(COURSES, 4)
    secs = secs[: T.randint(3, 4)]
    s, foot = w / T.uniform(40, 52), f"{', '.join(address(T))}   Tel {code(T, 9)}"
    im, d = canvas(w, h, bg)
    m, y, fd = w / 10, w / 10 * 0.6, F(fi, s * 0.8)
    tx(d, w / 2, y, name, F(fb, s * 2.6), acc, "ma")
    d.line([w * 0.35, y + s * 3.6, w * 0.65, y + s * 3.6], fill=acc, width=2)
    y += s * 5
    per = (h - y - s * 4) / len(secs)
    for sec in secs:
        ys = y
        tx(d, w / 2, y, sec.upper(), F(fb, s * 1.4), acc, "ma")
        y += s * 2.6
        for _ in range(max(2, nitem + R.randint(-1, 1))):
            it = f"{R.choice(COOK)} {R.choice(FOODS)}" + R.choice(["", f" with {R.choice(FOODS)}"])
            it, pr = it.capitalize(), f"{cur}{R.randint(4, 38)}.{R.choice(wl('00 50 90 95'))}"
            if y + s * 2.6 > ys + per:
                break
            tx(d, m, y, it, F(fb, s), fg)
            tx(d, w - m, y, pr, F(fr, s), fg, "ra")
            if dots:
                x0, x1 = m + F(fb, s).getlength(it) + s / 2, w - m - F(fr, s).getlength(pr) - s / 2
                dots = "." * max(0, int((x1 - x0) / F(fr, s).getlength(".")))
                tx(d, x0, y, dots, F(fr, s), "#888")
            tx(d, m, y + s * 1.3, cut(sentence(R, 4, 9).lower(), fd, w - 2 * m), fd, "#828282")
            y += s * 2.7
        y = ys + per
    tx(d, w / 2, h - s * 2, foot, F(fr, s * 0.75), "#828282", "ma")
    return im


SECTIONS = wl("Introduction Background Method Experiments Results Discussion Conclusion")


def fam_paper(T: Rng, R: Rng) -> Image.Image:
    w = T.randint(850, 1300)
    h, (fr, fb, fi) = round(w * 1.294), T.choice([("cmr", "cmb", "cmti"), FAMS[2], FAMS[1]])
    s, journal = max(9, round(w / T.uniform(92, 110))), f"Journal of {T.choice(NOUNS)}"
    vol = T.randint(3, 60)
    im, d = canvas(w, h)
    m, g, ft, ftl = w * 0.09, w * 0.03, F(fr, s), F(fb, s * 1.8)
    tx(d, m, m * 0.5, f"{journal.title()}, vol. {vol}", F(fi, s * 0.9))
    tx(d, w - m, m * 0.5, R.randint(1, 400), F(fr, s * 0.9), a="ra")
    y = m
    for t in wrap(words(R, 6, 12).title(), ftl, w - 2 * m):
        tx(d, w / 2, y, t, ftl, a="ma")
        y += s * 2.3
    authors = ", ".join(person(R) for _ in range(R.randint(2, 5)))
    tx(d, w / 2, y + s * 0.5, authors, F(fr, s * 1.2), a="ma")
    tx(d, w / 2, y + s * 2.3, f"{company(R)}, {R.choice(CITIES)}", F(fi, s), a="ma")
    tx(d, w / 2, y + s * 4.5, "Abstract", F(fb, s), a="ma")
    y = block(d, m + w * 0.06, y + s * 6.1, paragraph(R, 4, 6), ft, w * 0.7, lh=1.3) + s
    cw, fig_col, fig_at, sec = (w - 2 * m - g) / 2, R.randint(0, 1), R.uniform(0.2, 0.6), 0
    for c in range(2):
        x, yy = m + c * (cw + g), y
        while yy < h - m:
            if c == fig_col and yy > y + (h - y) * fig_at > 0:
                d.rectangle([x, yy, x + cw, yy + cw * 0.6], outline="black")
                pts = [(x + cw * i / 20, yy + cw * (0.54 - 0.48 * R.random())) for i in range(21)]
                d.line(pts, fill=(40, 60, 160), width=2)
                cap = f"Figure 1: {sentence(R, 8, 16)}"
                yy = block(d, x, yy + cw * 0.6 + s, cap, F(fr, s * 0.9), cw, "black", 1.3, h - m)
                yy += s
                fig_at = -1
                continue
            if R.random() < 0.3 and sec < len(SECTIONS):
                tx(d, x, yy + s * 0.5, f"{sec + 1}  {SECTIONS[sec]}", F(fb, s * 1.15))
                yy += s * 2.3
                sec += 1
            yy = block(d, x, yy, "    " + paragraph(R, 2, 5), ft, cw, "black", 1.3, h - m) + s * 0.4
    return im


FAMILIES = {k[4:]: v for k, v in globals().items() if k.startswith("fam_")}


# ---------------------------------------------------------------- edits

RES = [Image.Resampling.BILINEAR, Image.Resampling.BICUBIC, Image.Resampling.LANCZOS]
TR = Image.Transpose
ROT = {90: TR.ROTATE_90, 180: TR.ROTATE_180, 270: TR.ROTATE_270}


def resize(im: Image.Image, f: float, r: Rng) -> Image.Image:
    return im.resize((max(8, round(im.width * f)), max(8, round(im.height * f))), r.choice(RES))


def jpeg_rt(im: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert(im.mode)


def inner_rect(w: int, h: int, deg: float) -> tuple[float, float]:
    """Largest axis-aligned rectangle inside a w x h rectangle rotated by deg."""
    sa, ca = abs(math.sin(math.radians(deg))), abs(math.cos(math.radians(deg)))
    if min(w, h) <= 2 * sa * ca * max(w, h):
        x = 0.5 * min(w, h)
        return (x / sa, x / ca) if w >= h else (x / ca, x / sa)
    c2 = ca * ca - sa * sa
    return (w * ca - h * sa) / c2, (h * ca - w * sa) / c2


def paste_layer(im: Image.Image, lay: Image.Image, xy: tuple[int, int], alpha: int) -> Image.Image:
    if alpha < 255:
        lay.putalpha(lay.getchannel("A").point(lambda v: v * alpha // 255))
    out = im.convert("RGBA")
    out.alpha_composite(lay, xy)
    return out.convert("RGB")


def screenshot(im: Image.Image, r: Rng) -> tuple:
    """The document in a viewer window (title bar, toolbar, address field, sidebar, scrollbar)."""
    sc = r.uniform(0.5, 1.0)
    doc, dark, mac = resize(im, sc, r) if sc < 0.99 else im, r.random() < 0.3, r.random() < 0.5
    tb, tl, side = r.randint(26, 40), r.randint(34, 52), r.choice([0, 0, r.randint(120, 240)])
    sb = r.choice([0, 22])
    mx, my, scroll, f = r.randint(20, 200), r.randint(16, 120), 14, F("sans", 12)
    W, H, top = side + doc.width + 2 * mx + scroll, tb + tl + doc.height + 2 * my + sb, tb + tl
    chrome, fg = ((50, 50, 54), (220, 220, 220)) if dark else ((232, 232, 232), (40, 40, 40))
    view = (38, 38, 40) if dark else r.choice([(200, 200, 204), (82, 86, 89), (240, 240, 240)])
    win = Image.new("RGB", (W, H), view)
    d = ImageDraw.Draw(win)
    d.rectangle([0, 0, W, top], fill=chrome)
    d.line([0, tb, W, tb], fill=tint(chrome, 0.3))
    name = "_".join(r.choice(NOUNS) for _ in range(r.randint(1, 3))) + r.choice(wl(".pdf .png"))
    for i in range(3):
        if mac:
            d.circle((16 + i * 20, tb / 2), 6, fill=["#f55", "#fb3", "#2c4"][i])
        else:
            tx(d, W - 20 - i * 40, tb / 2, "x□_"[i], f, fg, "mm")
    tx(d, W / 2, tb / 2, name, f, fg, "mm")
    box = [W * 0.18, tb + tl * 0.2, W * 0.75, tb + tl * 0.8]
    d.rounded_rectangle(box, radius=6, fill=view if dark else "white")
    tx(d, W * 0.18 + 10, tb + tl / 2, f"file:///home/{r.choice(FIRST).lower()}/{name}", f, fg, "lm")
    for i in range(r.randint(2, 5)):
        d.rectangle([10 + i * 26, tb + tl / 2 - 8, 26 + i * 26, tb + tl / 2 + 8], outline=fg)
    tx(d, W - 12, tb + tl / 2, f"{round(sc * 100)}%", f, fg, "rm")
    if side:
        d.rectangle([0, top, side, H], fill=tint(chrome, 0.1) if dark else "#f5f5f5")
    for i in range(int((H - top) / 150) if side else 0):
        box = [side / 4, top + 20 + i * 150, side * 0.75, top + 120 + i * 150]
        d.rectangle(box, fill="white", outline="#999")
    x, y = side + mx, top + my
    d.rectangle([x + 4, y + 4, x + doc.width + 4, y + doc.height + 4], fill=(60, 60, 60))
    win.paste(doc.convert("RGB"), (x, y))
    d.rectangle([W - scroll, top, W, H - sb], fill=tint(view, 0.2))
    box = [W - scroll + 3, top + 10, W - 3, top + 10 + (H - top) * 0.4]
    d.rounded_rectangle(box, radius=4, fill="#969696")
    if sb:
        d.rectangle([0, H - sb, W, H], fill=chrome)
        tx(d, 8, H - sb / 2, f"Page 1 of {r.randint(1, 12)}", f, fg, "lm")
    p = {"scale": round(sc, 3), "window": [W, H], "doc_box": [x, y, x + doc.width, y + doc.height]}
    return win, p, ("png", None) if r.random() < 0.6 else None


def overlay(im: Image.Image, r: Rng) -> tuple:
    """A stamp, logo, star or diagonal watermark, opaque or semi-transparent, anywhere."""
    w, h = im.size
    frac, shape = r.uniform(0.03, 0.15), r.choice(["stamp", "logo", "star", "watermark"])
    col, alpha = rgb(r), 255 if r.random() < 0.35 else r.randint(70, 200)
    S = min(round(math.sqrt(frac * w * h)), w, h)
    lay = Image.new("RGBA", (S, S) if shape != "watermark" else (S * 2, S // 2), (0, 0, 0, 0))
    d, c, lw, lh = ImageDraw.Draw(lay), (*col, 255), lay.width, lay.height
    t = r.choice(STAMPS)
    if shape == "stamp":
        d.ellipse([2, 2, S - 3, S - 3], outline=c, width=max(2, S // 14))
        tx(d, S / 2, S / 2, t, fit(t, "sansb", S * 0.3, S * 0.7), c, "mm")
    elif shape == "logo":
        d.rounded_rectangle([0, 0, S - 1, S - 1], radius=S // 5, fill=c)
        tx(d, S / 2, S / 2, code(r, 2), F("sansb", S * 0.45), (255, 255, 255, 255), "mm")
    elif shape == "star":
        n, rad = r.randint(5, 8), [S / 2, S * 0.22]
        ang = [(rad[i % 2], math.pi * i / n - math.pi / 2) for i in range(2 * n)]
        d.polygon([(S / 2 + q * math.cos(a), S / 2 + q * math.sin(a)) for q, a in ang], fill=c)
    else:
        tx(d, lw / 2, lh / 2, t, fit(t, "sansb", lh * 0.8, lw * 0.95), c, "mm")
        lay = lay.rotate(r.uniform(-40, 40), Image.Resampling.BICUBIC, expand=True)
        lay.thumbnail((w, h))
    x, y = r.randint(0, w - lay.width), r.randint(0, h - lay.height)
    area = round(lay.width * lay.height / (w * h), 3)
    p = {"shape": shape, "area": area, "at": [x, y], "alpha": alpha, "color": list(col)}
    return paste_layer(im, lay, (x, y), alpha), p, None


def banner(im: Image.Image, r: Rng) -> tuple:
    """A caption bar (full width, or 60-100 % of it) with a few words, 5-15 % of the area."""
    w, h = im.size
    frac, u = r.uniform(0.05, 0.15), 1.0 if r.random() < 0.6 else r.uniform(0.6, 1.0)
    bw, bh = round(w * u), round(frac * h / u)
    x, y = r.randint(0, w - bw), r.choice([0, h - bh, r.randint(0, h - bh)])
    col, alpha = rgb(r), r.choice([255, r.randint(150, 235)])
    lay = Image.new("RGBA", (bw, bh), (*col, 255))
    text = words(r, 1, 4).upper() if r.random() < 0.5 else sentence(r, 2, 5)
    f = fit(text, r.choice(["sansb", "serifb", "sans"]), min(bh * 0.5, w / 12), bw * 0.92)
    tx(ImageDraw.Draw(lay), bw / 2, bh / 2, text, f, "black" if sum(col) > 380 else "white", "mm")
    p = {"area": round(bw * bh / (w * h), 3), "box": [x, y, x + bw, y + bh], "alpha": alpha}
    return paste_layer(im, lay, (x, y), alpha), {**p, "text": text}, None


def edit(k: str, im: Image.Image, r: Rng, g: np.random.Generator) -> tuple:
    """Apply edit kind k to an RGB image; return (image, params, encoding or None)."""
    w, h = im.size
    if k in ("resize_recompress", "jpeg_heavy"):
        f = r.uniform(0.4, 0.9) if k == "resize_recompress" else 1.0
        q = r.randint(60, 95) if k == "resize_recompress" else r.randint(5, 25)
        return (resize(im, f, r) if f < 1 else im), {"scale": round(f, 3), "quality": q}, ("jpg", q)
    if k == "recompress_chain":
        qs = [r.randint(40, 85) for _ in range(r.randint(3, 5))]
        at, sc = (r.randint(1, len(qs) - 1), r.uniform(0.6, 0.95)) if r.random() < 0.5 else (0, 1.0)
        for i, q in enumerate(qs[:-1]):
            im = jpeg_rt(im, q)
            im = resize(im, sc, r) if at == i + 1 else im
        return im, {"qualities": qs, "resize_after": at, "scale": round(sc, 3)}, ("jpg", qs[-1])
    if k == "blur":
        rad = r.uniform(1, 3.5)
        out = im.filter(ImageFilter.GaussianBlur(rad * w / 1000))
        return out, {"radius_at_1000px": round(rad, 2)}, None
    if k == "noise":
        sig = r.uniform(4, 14)
        a = np.asarray(im, np.float32) + g.standard_normal((h, w, 3), np.float32) * sig
        out = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
        return out, {"sigma": round(sig, 2)}, None
    if k == "sharpen":
        p = {"radius": round(r.uniform(1, 3), 2), "percent": r.randint(80, 250)}
        return im.filter(ImageFilter.UnsharpMask(**p, threshold=r.randint(0, 3))), p, None
    if k in ("brighten", "darken"):
        f = r.uniform(1.2, 1.7) if k == "brighten" else r.uniform(0.4, 0.8)
        return ImageEnhance.Brightness(im).enhance(f), {"factor": round(f, 3)}, None
    if k == "color":
        dh, sat = r.randint(10, 60) * r.choice([-1, 1]), r.uniform(0.3, 1.8)
        gam = r.uniform(0.6, 1.6)
        hsv = np.asarray(im.convert("HSV")).copy()
        hsv[..., 0] = (hsv[..., 0].astype(np.int32) + round(dh * 256 / 360)) % 256
        im = ImageEnhance.Color(Image.fromarray(hsv, "HSV").convert("RGB")).enhance(sat)
        im = im.point([min(255, round(255 * (i / 255) ** gam)) for i in range(256)] * 3)
        return im, {"hue_deg": dh, "saturation": round(sat, 3), "gamma": round(gam, 3)}, None
    if k == "greyscale":
        keep_l = r.random() < 0.5
        out = im.convert("L") if keep_l else im.convert("L").convert("RGB")
        return out, {"mode_l": keep_l}, None
    if k == "crop":
        a = r.uniform(0.6, 0.95)
        fx = r.uniform(a, 1)
        cw, ch = round(w * fx), round(h * a / fx)
        x, y = r.randint(0, w - cw), r.randint(0, h - ch)
        box = [x, y, x + cw, y + ch]
        return im.crop(box), {"area": round(a, 3), "box": box}, None
    if k == "border":
        frac, col = r.uniform(0.03, 0.2), r.choice([(255, 255, 255), (0, 0, 0), rgb(r), rgb(r)])
        t, sides = round(frac * w), sorted(r.sample(wl("left top right bottom"), r.randint(1, 4)))
        lft, top, rgt, bot = (t * (s in sides) for s in wl("left top right bottom"))
        out = Image.new("RGB", (w + lft + rgt, h + top + bot), col)
        out.paste(im, (lft, top))
        back = r.random() < 0.5
        out = out.resize((w, h), Image.Resampling.LANCZOS) if back else out
        p = {"width_frac": round(frac, 3), "color": list(col), "sides": sides, "resized_back": back}
        return out, p, None
    if k == "rotate_small":
        deg, exp, col = r.choice([-1, 1]) * r.uniform(3, 20), r.random() < 0.5, rgb(r)
        out = im.rotate(deg, Image.Resampling.BICUBIC, expand=True, fillcolor=col)
        if not exp:
            iw, ih = inner_rect(w, h, deg)
            x, y = (out.width - iw) / 2, (out.height - ih) / 2
            out = out.crop((math.ceil(x), math.ceil(y), math.floor(x + iw), math.floor(y + ih)))
        p = {"angle": round(deg, 2), "expand": exp, "fill": list(col) if exp else None}
        return out, p, None
    if k == "rotate90":
        a = r.choice([90, 180, 270])
        return im.transpose(ROT[a]), {"angle_ccw": a}, None
    if k == "flip":
        v = r.random() < 0.2
        out = im.transpose(TR.FLIP_TOP_BOTTOM if v else TR.FLIP_LEFT_RIGHT)
        return out, {"axis": "vertical" if v else "horizontal"}, None
    if k in ("text_banner", "overlay", "screenshot"):
        return {"text_banner": banner, "overlay": overlay, "screenshot": screenshot}[k](im, r)
    if k == "compound":
        steps, enc = [], None
        for kk in r.sample(POOL, r.randint(3, 4)):
            im = jpeg_rt(im, enc[1]) if enc and enc[0] == "jpg" else im
            im, p, enc = edit(kk, im.convert("RGB"), r, g)
            steps.append({"edit": kk, **p})
        return im, {"steps": steps}, enc
    if k == "exif_rotated":  # pixels turned, EXIF orientation turning them back for display
        o, ex, q = r.choice([3, 6, 8]), Image.Exif(), r.randint(80, 95)
        ex[0x0112] = o
        out = im.transpose(ROT[{3: 180, 6: 90, 8: 270}[o]])
        return out, {"orientation": o, "display_size": [w, h]}, ("jpg", q, ex.tobytes())
    raise ValueError(k)


KINDS = wl("""exact_copy resize_recompress jpeg_heavy recompress_chain blur noise sharpen brighten
darken color greyscale crop border rotate_small rotate90 flip text_banner overlay screenshot
compound exif_rotated""")
POOL = [k for k in KINDS if k not in ("exact_copy", "recompress_chain", "compound", "exif_rotated")]


def encode(im: Image.Image, enc: tuple | None, r: Rng, copy: bool = True) -> tuple:
    """Bytes, extension and params; without a set encoding pick one (originals mostly PNG)."""
    if enc is None:
        x = r.random()
        if copy:
            enc = ("jpg", r.randint(70, 95)) if x < 0.5 else ("png", None) if x < 0.8 else None
            enc = enc or ("webp", r.randint(70, 95))
        else:
            enc = ("png", None) if x < 0.75 else ("jpg", r.randint(85, 97))
    buf = io.BytesIO()
    if enc[0] == "jpg":
        im.save(buf, "JPEG", quality=enc[1], **({"exif": enc[2]} if len(enc) > 2 else {}))
    elif enc[0] == "png":
        im.save(buf, "PNG")
    else:
        im.convert("RGB").save(buf, "WEBP", quality=enc[1], method=4)
    return buf.getvalue(), enc[0], {"format": enc[0], "quality": enc[1]}


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    seed, out, t0 = args.seed, args.outdir, time.time()
    (out / "images").mkdir(parents=True, exist_ok=True)
    for old in (out / "images").glob("[0-9][0-9][0-9][0-9][0-9][0-9].*"):
        old.unlink()
    rng = random.Random(seed)
    fams = sorted(FAMILIES)
    calib = set(rng.sample(fams, len(fams) // 2))
    total = len(fams) * DOCS * (1 + COPIES + NEGS)
    nums, deck, images = rng.sample(range(total), total), [], []

    def render(fam: str, name: str) -> Image.Image:
        return FAMILIES[fam](Rng(f"{seed}/template/{fam}"), Rng(f"{seed}/doc/{name}"))

    def write(data: bytes, ext: str, fam: str, gid: str | None, kind: str, src: str, p: dict):
        path = f"images/{nums.pop():06d}.{ext}"
        (out / path).write_bytes(data)
        with Image.open(io.BytesIO(data)) as im:
            p = {**p, "family": fam, "size": list(im.size)}
        split = "calib" if fam in calib else "test"
        images.append({"path": path, "group": gid, "edit": kind, "source": src, "split": split,
                       "kind": "document", "params": p})  # fmt: skip
        return path

    for fi, fam in enumerate(fams):
        for i in range(DOCS):
            src, gid, r = f"{fam}_{i}", f"g{fi * DOCS + i:03d}", Rng(f"{seed}/edits/{fam}_{i}")
            g = np.random.default_rng(r.getrandbits(64))
            data, ext, fp = encode(render(fam, src), None, r, copy=False)
            opath = write(data, ext, fam, gid, "original", src, fp)
            orig = Image.open(io.BytesIO(data)).convert("RGB")
            kinds: list[str] = []
            while len(kinds) < COPIES:  # dealt from shuffled decks, so the kinds stay balanced
                deck = deck or rng.sample(KINDS, len(KINDS))
                k = next((k for k in deck if k not in kinds), None)
                if k is None:
                    deck += rng.sample(KINDS, len(KINDS))
                    continue
                deck.remove(k)
                kinds.append(k)
            for k in kinds:
                if k == "exact_copy":
                    write(data, ext, fam, gid, k, src, {**fp, "of": opath})
                    continue
                im, p, enc = edit(k, orig, r, g)
                data2, ext2, fp2 = encode(im, enc, r)
                write(data2, ext2, fam, gid, k, src, {**p, **fp2})
            for n in range(NEGS):
                name = f"{fam}_n{i * NEGS + n}"
                data, ext, fp = encode(render(fam, name), None, r, copy=False)
                write(data, ext, fam, None, "same_template", name, fp)
        print(f"{fam:12s} {'calib' if fam in calib else 'test':5s} {time.time() - t0:6.1f}s")
    images.sort(key=lambda e: e["path"])
    truth = {"version": 1, "seed": seed, "images": images}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    groups = len({e["group"] for e in images if e["group"]})
    print(f"\n{len(images)} images, {groups} groups, {time.time() - t0:.0f}s -> {out}")
    for sp in ("calib", "test"):
        c = Counter(e["edit"] for e in images if e["split"] == sp)
        fs = sorted(f for f in fams if (f in calib) == (sp == "calib"))
        print(f"{sp}: {c.total()} images, families {', '.join(fs)}")
        print("   " + ", ".join(f"{k}={v}" for k, v in sorted(c.items())))


if __name__ == "__main__":
    main()
