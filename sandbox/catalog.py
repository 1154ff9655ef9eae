"""A seeded, deterministic catalog of licence-key products.

The same seed always yields the same products, prices, stock and timestamps, so a
test or a benchmark can name a sku and get the same product every run. Generation
is a single pass over one ``random.Random`` with cheap per-item work: 20,000
products (about 60,000 combinations) must build in well under three seconds.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .errors import ApiError
from .money import CURRENCY, fmt, iso, net_from_price, utcnow

IN_STOCK = "in_stock"
BACKORDER = "backorder"
SOLD_OUT = "sold_out"
STOCK_STATES = (IN_STOCK, BACKORDER, SOLD_OUT)

# Seeded timestamps fall in this window so that any "bump" done at run time (with
# the real clock) is later than every generated one.
_EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
_EPOCH_SPAN_SECONDS = 300 * 24 * 3600


@dataclass(slots=True)
class Axis:
    name: str
    options: tuple[str, ...]

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "options": list(self.options)}


@dataclass(slots=True)
class Combination:
    # ``name`` is used on order lines and key lists; the contract's combination
    # object has no name, so the detail does not show it.
    order_sku: str
    options: tuple[int, ...]
    name: str
    price: Decimal
    net_price: Decimal
    stock: str = IN_STOCK

    def to_api(self) -> dict[str, Any]:
        return {
            "orderSku": self.order_sku,
            "options": list(self.options),
            "price": fmt(self.price),
            "netPrice": fmt(self.net_price),
            "inStock": self.stock == IN_STOCK,
        }


@dataclass(slots=True)
class Product:
    sku: str
    name: str
    category: str
    brand: str
    platform: str
    description: str
    price: Decimal
    net_price: Decimal
    stock: str
    updated_at: datetime
    axes: tuple[Axis, ...] = ()
    combinations: list[Combination] = field(default_factory=list)
    active: bool = True

    @property
    def has_variants(self) -> bool:
        return bool(self.combinations)

    def cheapest(self) -> tuple[Decimal, Decimal]:
        """(price, netPrice) shown for the product: its cheapest combination's."""
        if not self.combinations:
            return self.price, self.net_price
        best = min(self.combinations, key=lambda c: (c.net_price, c.price))
        return best.price, best.net_price

    def in_stock(self) -> bool:
        if self.combinations:
            return any(c.stock == IN_STOCK for c in self.combinations)
        return self.stock == IN_STOCK

    def combination(self, order_sku: str) -> Combination | None:
        for combo in self.combinations:
            if combo.order_sku == order_sku:
                return combo
        return None

    def bump(self) -> None:
        """Mark the product changed; strictly later even within the same second."""
        self.updated_at = max(
            utcnow().replace(microsecond=0), self.updated_at + timedelta(seconds=1)
        )

    def to_list_item(self) -> dict[str, Any]:
        price, net = self.cheapest()
        return {
            "sku": self.sku,
            "name": self.name,
            "category": self.category,
            "brand": self.brand,
            "platform": self.platform,
            "price": fmt(price),
            "netPrice": fmt(net),
            "currency": CURRENCY,
            "hasVariants": self.has_variants,
            "inStock": self.in_stock(),
            "updatedAt": iso(self.updated_at),
        }

    def to_detail(self) -> dict[str, Any]:
        item = self.to_list_item()
        item["description"] = self.description
        item["axes"] = [axis.to_api() for axis in self.axes]
        item["combinations"] = [combo.to_api() for combo in self.combinations]
        return item


# --- generation data --------------------------------------------------------------

# An axis template: name and (option label, price factor) in ascending order. A
# product takes the first n options so that the factors grow from 1.0.
AxisTemplate = tuple[str, tuple[tuple[str, float], ...]]


def _ax(name: str, *options: tuple[str, float]) -> AxisTemplate:
    return (name, options)


_DEVICES_PC = _ax(
    "Devices", ("1 PC", 1.0), ("2 PCs", 1.7), ("3 PCs", 2.3), ("5 PCs", 3.4), ("10 PCs", 6.0)
)
_DEVICES = _ax(
    "Devices",
    ("1 Device", 1.0),
    ("3 Devices", 1.6),
    ("5 Devices", 2.1),
    ("10 Devices", 3.2),
)
_YEARS = _ax("Years", ("1 Year", 1.0), ("2 Years", 1.7), ("3 Years", 2.3))
_LICENCE_WIN = _ax("Licence", ("OEM", 1.0), ("Retail", 1.4), ("Volume (MAK)", 1.9))
_LANGUAGE = _ax(
    "Language",
    ("Multilanguage", 1.0),
    ("English", 1.0),
    ("Spanish", 1.0),
    ("German", 1.0),
    ("French", 1.0),
    ("Italian", 1.0),
)
_OFFICE_LICENCE = _ax(
    "Licence", ("Digital key", 1.0), ("Bind to Microsoft account", 1.15), ("Retail box", 1.3)
)
_CORES = _ax("Cores", ("16 Cores", 1.0), ("24 Cores", 1.45), ("32 Cores", 1.9))
_USERS = _ax("Users", ("1 User", 1.0), ("5 Users", 4.2), ("10 Users", 8.0), ("25 Users", 18.0))
_TERM = _ax("Licence", ("1 Year", 1.0), ("3 Years", 2.5), ("Perpetual", 4.0))
_OS = _ax("Operating system", ("Windows", 1.0), ("macOS", 1.05))
_SEATS = _ax("Seats", ("1 User", 1.0), ("2 Users", 1.8), ("5 Users", 4.0))
_EDITION_GAME = _ax(
    "Edition",
    ("Standard Edition", 1.0),
    ("Deluxe Edition", 1.4),
    ("Gold Edition", 1.8),
    ("Ultimate Edition", 2.2),
)
_REGION = _ax(
    "Region", ("Global", 1.0), ("Europe", 0.95), ("EU & UK", 0.97), ("North America", 1.05)
)
_VPN_DEVICES = _ax("Devices", ("1 Device", 1.0), ("6 Devices", 1.5), ("10 Devices", 2.1))
_DURATION = _ax("Duration", ("1 Month", 1.0), ("1 Year", 6.5), ("2 Years", 11.0))
_UTIL_DEVICES = _ax("Devices", ("1 PC", 1.0), ("3 PCs", 2.0), ("5 PCs", 2.9))
_UTIL_TERM = _ax("Licence", ("1 Year", 1.0), ("Lifetime", 2.4))


@dataclass(frozen=True, slots=True)
class _Line:
    """A product line: many catalog entries (regions, licence types) derive from one."""

    name: str
    brand: str
    platform: str
    base: float
    axes: tuple[AxisTemplate, ...]
    suffixes: tuple[str, ...]


def _lines(
    brand: str,
    platform: str,
    axes: tuple[AxisTemplate, ...],
    suffixes: tuple[str, ...],
    *items: tuple[str, float],
) -> list[_Line]:
    return [_Line(name, brand, platform, base, axes, suffixes) for name, base in items]


_WIN_SUFFIXES = ("", "OEM", "Retail", "(Multilanguage)", "(EU)", "Digital Licence", "N")
_OFFICE_SUFFIXES = ("", "(Multilanguage)", "(EU)", "ESD", "Bind", "(Spanish)", "(German)")
_SERVER_SUFFIXES = ("", "OEM", "Retail", "(Multilanguage)", "Volume Licence")
_AV_SUFFIXES = ("", "(EU)", "(Global)", "(Renewal)", "(Multi-Device)")
_DESIGN_SUFFIXES = ("", "(Windows)", "(Mac)", "Education", "Business", "(Multilanguage)")
_GAME_SUFFIXES = ("(Global)", "(Europe)", "(EU & UK)", "(North America)", "(Latin America)")
_VPN_SUFFIXES = ("", "(Global)", "(Promo)")
_UTIL_SUFFIXES = ("", "(Windows)", "(Mac)", "(Lifetime)", "Business", "(Global)")

_CATALOG: dict[str, list[_Line]] = {
    "Windows": _lines(
        "Microsoft",
        "Windows",
        (_LICENCE_WIN, _LANGUAGE, _DEVICES_PC),
        _WIN_SUFFIXES,
        ("Microsoft Windows 11 Pro", 24.9),
        ("Microsoft Windows 11 Home", 19.9),
        ("Microsoft Windows 10 Pro", 19.9),
        ("Microsoft Windows 10 Home", 14.9),
        ("Microsoft Windows 11 Enterprise", 39.9),
        ("Microsoft Windows 11 Education", 29.9),
        ("Microsoft Windows 11 Pro for Workstations", 49.9),
        ("Microsoft Windows 10 Enterprise LTSC 2021", 34.9),
        ("Microsoft Windows 11 Home to Pro Upgrade", 17.9),
    ),
    "Office": _lines(
        "Microsoft",
        "Windows",
        (_DEVICES_PC, _OFFICE_LICENCE, _LANGUAGE),
        _OFFICE_SUFFIXES,
        ("Microsoft Office 2021 Professional Plus", 49.9),
        ("Microsoft Office 2021 Home & Student", 39.9),
        ("Microsoft Office 2021 Home & Business", 69.9),
        ("Microsoft Office 2019 Professional Plus", 34.9),
        ("Microsoft Office 2019 Home & Business", 49.9),
        ("Microsoft Office 2024 Home", 79.9),
        ("Microsoft Office 2024 Home & Business", 99.9),
        ("Microsoft Office LTSC Professional Plus 2024", 119.9),
        ("Microsoft 365 Personal", 59.9),
        ("Microsoft 365 Family", 79.9),
        ("Microsoft 365 Business Standard", 119.9),
        ("Microsoft Visio 2021 Professional", 39.9),
        ("Microsoft Project 2021 Professional", 44.9),
        ("Microsoft Access 2021", 29.9),
        ("Microsoft Word 2021", 24.9),
        ("Microsoft Excel 2021", 24.9),
    )
    + _lines(
        "Microsoft",
        "macOS",
        (_DEVICES_PC, _OFFICE_LICENCE),
        _OFFICE_SUFFIXES,
        ("Microsoft Office 2021 Home & Business for Mac", 89.9),
        ("Microsoft Office 2024 Home for Mac", 84.9),
    ),
    "Server": _lines(
        "Microsoft",
        "Windows Server",
        (_CORES, _LICENCE_WIN),
        _SERVER_SUFFIXES,
        ("Microsoft Windows Server 2022 Standard", 59.9),
        ("Microsoft Windows Server 2022 Datacenter", 149.9),
        ("Microsoft Windows Server 2019 Standard", 49.9),
        ("Microsoft Windows Server 2019 Datacenter", 119.9),
        ("Microsoft Windows Server 2025 Standard", 89.9),
        ("Microsoft Windows Server 2025 Datacenter", 199.0),
        ("Microsoft SQL Server 2022 Standard", 299.0),
        ("Microsoft SQL Server 2019 Standard", 219.0),
        ("Microsoft Exchange Server 2019 Standard", 189.0),
    )
    + _lines(
        "Microsoft",
        "Windows Server",
        (_USERS, _LICENCE_WIN),
        _SERVER_SUFFIXES,
        ("Microsoft Windows Server 2022 Remote Desktop Services User CAL", 39.9),
        ("Microsoft Windows Server 2022 User CAL", 9.9),
        ("Microsoft Windows Server 2019 Device CAL", 8.9),
        ("Microsoft SharePoint Server 2019 User CAL", 14.9),
    ),
    "Antivirus": [
        line
        for brand, items in (
            (
                "Kaspersky",
                (("Standard", 19.9), ("Plus", 29.9), ("Premium", 39.9), ("Total Security", 34.9)),
            ),
            (
                "ESET",
                (
                    ("NOD32 Antivirus", 24.9),
                    ("Internet Security", 34.9),
                    ("Smart Security Premium", 49.9),
                    ("HOME Security Essential", 39.9),
                ),
            ),
            (
                "Norton",
                (("360 Standard", 24.9), ("360 Deluxe", 34.9), ("360 Premium", 44.9)),
            ),
            (
                "Bitdefender",
                (
                    ("Antivirus Plus", 19.9),
                    ("Internet Security", 29.9),
                    ("Total Security", 34.9),
                    ("Family Pack", 54.9),
                ),
            ),
            ("McAfee", (("Total Protection", 24.9), ("LiveSafe", 29.9))),
            ("Avast", (("Premium Security", 29.9), ("Ultimate", 44.9))),
            ("AVG", (("Internet Security", 24.9), ("Ultimate", 39.9))),
            ("G DATA", (("Internet Security", 27.9), ("Total Security", 37.9))),
            ("Trend Micro", (("Maximum Security", 34.9),)),
            ("Panda", (("Dome Essential", 19.9), ("Dome Advanced", 29.9))),
        )
        for line in _lines(
            brand,
            "Windows, macOS, Android, iOS",
            (_DEVICES, _YEARS),
            _AV_SUFFIXES,
            *((f"{brand} {name}", base) for name, base in items),
        )
    ],
    "Design": _lines(
        "Adobe",
        "Windows, macOS",
        (_TERM, _OS, _SEATS),
        _DESIGN_SUFFIXES,
        ("Adobe Photoshop Elements 2025", 69.9),
        ("Adobe Premiere Elements 2025", 69.9),
        ("Adobe Acrobat Pro 2024", 199.0),
        ("Adobe Acrobat Standard 2020", 129.0),
        ("Adobe Creative Cloud All Apps", 449.0),
        ("Adobe Lightroom Classic", 99.9),
    )
    + _lines(
        "Corel",
        "Windows",
        (_TERM, _SEATS),
        _DESIGN_SUFFIXES,
        ("CorelDRAW Graphics Suite 2024", 249.0),
        ("Corel Painter 2023", 189.0),
        ("Corel PaintShop Pro 2023 Ultimate", 59.9),
        ("Corel VideoStudio Ultimate 2023", 54.9),
    )
    + _lines(
        "Autodesk",
        "Windows",
        (_TERM, _SEATS),
        _DESIGN_SUFFIXES,
        ("Autodesk AutoCAD LT 2025", 199.0),
        ("Autodesk AutoCAD 2025", 399.0),
        ("Autodesk 3ds Max 2025", 429.0),
        ("Autodesk Maya 2025", 429.0),
        ("Autodesk Revit 2025", 499.0),
        ("Autodesk Fusion 360", 149.0),
    )
    + _lines(
        "Serif",
        "Windows, macOS, iPadOS",
        (_OS, _SEATS),
        _DESIGN_SUFFIXES,
        ("Affinity Photo 2", 49.9),
        ("Affinity Designer 2", 49.9),
        ("Affinity Publisher 2", 49.9),
    )
    + _lines(
        "MAGIX",
        "Windows",
        (_TERM, _SEATS),
        _DESIGN_SUFFIXES,
        ("VEGAS Pro 21", 179.0),
        ("Pinnacle Studio 26 Ultimate", 69.9),
    ),
    "VPN": _lines(
        "Nord Security",
        "Windows, macOS, Android, iOS, Linux",
        (_DURATION, _VPN_DEVICES),
        _VPN_SUFFIXES,
        ("NordVPN Standard", 4.9),
        ("NordVPN Plus", 5.9),
        ("NordVPN Complete", 6.9),
    )
    + _lines(
        "VPN providers",
        "Windows, macOS, Android, iOS",
        (_DURATION, _VPN_DEVICES),
        _VPN_SUFFIXES,
        ("ExpressVPN", 8.9),
        ("Surfshark One", 4.9),
        ("CyberGhost VPN", 3.9),
        ("Proton VPN Plus", 5.9),
        ("Private Internet Access VPN", 3.5),
        ("Kaspersky VPN Secure Connection", 3.9),
    ),
    "Utilities": _lines(
        "Various",
        "Windows",
        (_UTIL_DEVICES, _UTIL_TERM),
        _UTIL_SUFFIXES,
        ("WinRAR 7", 24.9),
        ("Acronis Cyber Protect Home Office Essentials", 39.9),
        ("Acronis Cyber Protect Home Office Advanced", 54.9),
        ("CCleaner Professional", 19.9),
        ("Malwarebytes Premium", 29.9),
        ("EaseUS Data Recovery Wizard Pro", 59.9),
        ("AOMEI Backupper Professional", 34.9),
        ("VMware Workstation 17 Pro", 149.0),
        ("Nero Platinum Suite 2024", 39.9),
        ("Ashampoo Burning Studio 25", 29.9),
        ("IObit Driver Booster 12 Pro", 19.9),
        ("IObit Advanced SystemCare 17 Pro", 19.9),
    )
    + _lines(
        "Parallels",
        "macOS",
        (_UTIL_TERM, _UTIL_DEVICES),
        _UTIL_SUFFIXES,
        ("Parallels Desktop 20 Standard", 89.9),
        ("Parallels Desktop 20 Pro", 109.9),
    ),
}

# Brand names of the utilities line are per product; keep the real publisher.
_UTILITY_BRANDS = {
    "WinRAR": "win.rar",
    "Acronis": "Acronis",
    "CCleaner": "Piriform",
    "Malwarebytes": "Malwarebytes",
    "EaseUS": "EaseUS",
    "AOMEI": "AOMEI",
    "VMware": "Broadcom",
    "Nero": "Nero",
    "Ashampoo": "Ashampoo",
    "IObit": "IObit",
    "ExpressVPN": "ExpressVPN",
    "Surfshark": "Surfshark",
    "CyberGhost": "CyberGhost",
    "Proton": "Proton",
    "Private": "Private Internet Access",
    "Kaspersky": "Kaspersky",
}

_GAMES: tuple[tuple[str, str, float], ...] = (
    ("Cyberpunk 2077", "CD PROJEKT RED", 29.9),
    ("The Witcher 3: Wild Hunt", "CD PROJEKT RED", 14.9),
    ("Elden Ring", "Bandai Namco", 39.9),
    ("Dark Souls III", "Bandai Namco", 24.9),
    ("Forza Horizon 5", "Xbox Game Studios", 39.9),
    ("Microsoft Flight Simulator", "Xbox Game Studios", 49.9),
    ("Starfield", "Bethesda", 49.9),
    ("The Elder Scrolls V: Skyrim", "Bethesda", 14.9),
    ("Fallout 4", "Bethesda", 9.9),
    ("Red Dead Redemption 2", "Rockstar Games", 24.9),
    ("Grand Theft Auto V", "Rockstar Games", 14.9),
    ("Assassin's Creed Mirage", "Ubisoft", 29.9),
    ("Far Cry 6", "Ubisoft", 19.9),
    ("Anno 1800", "Ubisoft", 19.9),
    ("EA SPORTS FC 25", "Electronic Arts", 49.9),
    ("The Sims 4 Cottage Living", "Electronic Arts", 19.9),
    ("Battlefield 2042", "Electronic Arts", 19.9),
    ("Baldur's Gate 3", "Larian Studios", 44.9),
    ("Hogwarts Legacy", "Warner Bros. Games", 34.9),
    ("Diablo IV", "Blizzard Entertainment", 44.9),
    ("Call of Duty: Modern Warfare III", "Activision", 54.9),
    ("Civilization VI", "2K", 9.9),
    ("Borderlands 3", "2K", 9.9),
    ("Stardew Valley", "ConcernedApe", 9.9),
    ("Hollow Knight", "Team Cherry", 9.9),
    ("Resident Evil 4", "Capcom", 29.9),
    ("Monster Hunter Wilds", "Capcom", 54.9),
    ("Sekiro: Shadows Die Twice", "Activision", 29.9),
    ("Halo Infinite", "Xbox Game Studios", 29.9),
    ("Sea of Thieves", "Xbox Game Studios", 19.9),
)
_GAME_WORDS_A = (
    "Iron", "Crimson", "Silent", "Last", "Fallen", "Hollow", "Eternal", "Shattered",
    "Neon", "Lost", "Frozen", "Savage", "Hidden", "Broken", "Golden", "Dark",
)  # fmt: skip
_GAME_WORDS_B = (
    "Frontier", "Kingdom", "Horizon", "Legacy", "Protocol", "Requiem", "Odyssey",
    "Dominion", "Outpost", "Chronicles", "Tides", "Empire", "Citadel", "Descent",
)  # fmt: skip
_GAME_STUDIOS = (
    "Paradox Interactive", "Devolver Digital", "Focus Entertainment", "THQ Nordic",
    "Team17", "Annapurna Interactive", "Raw Fury", "Humble Games", "tinyBuild",
)  # fmt: skip
_GAME_PLATFORMS = (
    ("Steam", 1.0),
    ("Steam", 1.0),
    ("Xbox", 1.1),
    ("Xbox Series X|S", 1.15),
    ("PlayStation", 1.2),
    ("Nintendo eShop", 1.2),
    ("EA App", 1.0),
    ("Ubisoft Connect", 1.0),
    ("GOG", 0.95),
    ("Battle.net", 1.05),
)
_GAME_DLC = ("", "", "", " Season Pass", " Expansion Pass", " Deluxe Upgrade")

_CATEGORY_WEIGHTS = (
    ("Games", 34),
    ("Windows", 10),
    ("Office", 13),
    ("Server", 7),
    ("Antivirus", 13),
    ("Design", 9),
    ("VPN", 5),
    ("Utilities", 9),
)
CATEGORIES = tuple(name for name, _ in _CATEGORY_WEIGHTS)

_DESCRIPTIONS = {
    "Windows": "Genuine {name} product key for a clean installation or activation. "
    "Delivered digitally; activates online with Microsoft.",
    "Office": "{name} licence key for one installation per licence. "
    "Download from Microsoft and activate with the delivered key.",
    "Server": "{name} licence for business deployments. Volume and OEM terms apply.",
    "Antivirus": "{name}: protection against malware, ransomware and phishing. "
    "Licence key for new installations and renewals.",
    "Design": "{name} licence key for creative professionals. Download from the vendor.",
    "Games": "{name}: digital game key, redeemable on {platform}.",
    "VPN": "{name} subscription: encrypted connection, no-logs policy.",
    "Utilities": "{name}: licence key delivered digitally, activation online.",
}


def _price(rng: random.Random, amount: float) -> Decimal:
    """A believable shop price: whole euros ending in .90, .95 or .99."""
    whole = max(int(amount), 0)
    # Built from integer cents: the catalog makes ~70,000 of these per 20,000 products.
    return Decimal(whole * 100 + rng.choice((90, 95, 99))).scaleb(-2)


def _stock(rng: random.Random) -> str:
    # Most keys are on hand; some come later (backorder); a few are gone.
    draw = rng.random()
    if draw < 0.87:
        return IN_STOCK
    if draw < 0.98:
        return BACKORDER
    return SOLD_OUT


class Catalog:
    """The products, indexed by sku, with the queries and changes the sandbox needs."""

    def __init__(self, products: list[Product], discount: Decimal) -> None:
        self.discount = discount
        self._all = products  # in sku order, including removed products
        self._by_sku = {product.sku: product for product in products}
        self._reindex()

    # --- generation ----------------------------------------------------------------

    @classmethod
    def generate(cls, *, count: int, seed: int, variant_ratio: float, discount: Decimal) -> Catalog:
        rng = random.Random(seed)
        categories = [name for name, _ in _CATEGORY_WEIGHTS]
        cumulative = list(itertools.accumulate(weight for _, weight in _CATEGORY_WEIGHTS))
        total_weight = cumulative[-1]
        products: list[Product] = []
        sku_number = 10000 + rng.randrange(1000)
        for _ in range(count):
            sku_number += rng.randint(1, 7)
            sku = str(sku_number)
            category = categories[bisect(cumulative, rng.random() * total_weight)]
            if category == "Games":
                name, brand, platform, base, axes = cls._game(rng)
            else:
                line = rng.choice(_CATALOG[category])
                suffix = rng.choice(line.suffixes)
                name = f"{line.name} {suffix}" if suffix else line.name
                brand = line.brand
                if brand in ("Various", "VPN providers"):
                    brand = _UTILITY_BRANDS.get(line.name.split()[0], line.name.split()[0])
                platform, base, axes = line.platform, line.base, line.axes
            base *= rng.uniform(0.85, 1.2)
            updated = _EPOCH + timedelta(seconds=rng.randrange(_EPOCH_SPAN_SECONDS))
            description = _DESCRIPTIONS[category].format(name=name, platform=platform)
            price = _price(rng, base)
            product = Product(
                sku=sku,
                name=name,
                category=category,
                brand=brand,
                platform=platform,
                description=description,
                price=price,
                net_price=net_from_price(price, discount),
                stock=_stock(rng),
                updated_at=updated,
            )
            if axes and rng.random() < variant_ratio:
                cls._add_variants(rng, product, base, axes, discount)
            products.append(product)
        return cls(products, discount)

    @staticmethod
    def _game(
        rng: random.Random,
    ) -> tuple[str, str, str, float, tuple[AxisTemplate, ...]]:
        if rng.random() < 0.55:
            title, brand, base = rng.choice(_GAMES)
        else:
            # Indie back-catalogue: invented titles keep 20,000 games from repeating.
            title = f"{rng.choice(_GAME_WORDS_A)} {rng.choice(_GAME_WORDS_B)}"
            if rng.random() < 0.3:
                title += rng.choice((" II", " III", ": Remastered", ": Origins"))
            brand, base = rng.choice(_GAME_STUDIOS), rng.uniform(4.0, 29.0)
        platform, factor = rng.choice(_GAME_PLATFORMS)
        dlc = rng.choice(_GAME_DLC)
        if dlc:
            base *= 0.5
        name = f"{title}{dlc} ({platform}) {rng.choice(_GAME_SUFFIXES)}"
        return name, brand, platform, base * factor, (_EDITION_GAME, _REGION)

    @staticmethod
    def _add_variants(
        rng: random.Random,
        product: Product,
        base: float,
        templates: tuple[AxisTemplate, ...],
        discount: Decimal,
    ) -> None:
        # One axis of 2-5 options or two axes of 2-5 x 2-4 (capped by the options a
        # template has): about 7 combinations per variant product on average.
        if len(templates) == 1 or rng.random() < 0.25:
            chosen = [(rng.choice(templates), rng.randint(2, 5))]
        else:
            first, second = rng.sample(templates, 2)
            chosen = [(first, rng.randint(2, 5)), (second, rng.randint(2, 4))]
        axes: list[Axis] = []
        factors: list[tuple[float, ...]] = []
        for (axis_name, options), size in chosen:
            picked = options[: min(size, len(options))]
            axes.append(Axis(axis_name, tuple(label for label, _ in picked)))
            factors.append(tuple(factor for _, factor in picked))
        product.axes = tuple(axes)
        combos = []
        for indexes in itertools.product(*(range(len(axis.options)) for axis in axes)):
            amount = base
            for axis_number, index in enumerate(indexes):
                amount *= factors[axis_number][index]
            price = _price(rng, amount * rng.uniform(0.97, 1.03))
            labels = ", ".join(axes[n].options[i] for n, i in enumerate(indexes))
            combos.append(
                Combination(
                    order_sku=f"{product.sku}::{'-'.join(map(str, indexes))}",
                    options=indexes,
                    name=f"{product.name} {labels}",
                    price=price,
                    net_price=net_from_price(price, discount),
                    stock=_stock(rng),
                )
            )
        product.combinations = combos

    # --- queries --------------------------------------------------------------------

    def _reindex(self) -> None:
        self._active = [product for product in self._all if product.active]
        self._by_category: dict[str, list[Product]] = {}
        for product in self._active:
            self._by_category.setdefault(product.category.lower(), []).append(product)

    def page(
        self, *, page: int, page_size: int, category: str | None = None
    ) -> tuple[list[Product], int]:
        """Active products in sku order, one page of them, and the total."""
        pool = self._active if category is None else self._by_category.get(category.lower(), [])
        start = (page - 1) * page_size
        return pool[start : start + page_size], len(pool)

    def get(self, sku: str) -> Product | None:
        """An active product by its plain sku."""
        product = self._by_sku.get(sku)
        return product if product is not None and product.active else None

    def resolve(self, sku_or_order_sku: str) -> tuple[Product, Combination | None]:
        """The product (and combination) named by a sku or an orderSku; KeyError if none."""
        sku, sep, _ = sku_or_order_sku.partition("::")
        product = self.get(sku)
        if product is None:
            raise KeyError(sku_or_order_sku)
        if not sep:
            return product, None
        combo = product.combination(sku_or_order_sku)
        if combo is None:
            raise KeyError(sku_or_order_sku)
        return product, combo

    def orderable(self, sku: str) -> tuple[Product, Combination | None]:
        """What an order line buys; raises the contract's 422s for the rest."""
        try:
            product, combo = self.resolve(sku)
        except KeyError:
            raise ApiError(422, "unknown_sku", f"Unknown sku {sku!r}.") from None
        if combo is None and product.has_variants:
            raise ApiError(
                422,
                "unknown_sku",
                f"Product {sku} has variants: order one of its combinations by orderSku.",
            )
        stock = combo.stock if combo is not None else product.stock
        if stock == SOLD_OUT:
            raise ApiError(422, "out_of_stock", f"{sku} is sold out.")
        return product, combo

    def product_skus(self) -> list[str]:
        return [product.sku for product in self._active]

    def order_skus(self) -> list[str]:
        skus: list[str] = []
        for product in self._active:
            if product.combinations:
                skus.extend(combo.order_sku for combo in product.combinations)
            else:
                skus.append(product.sku)
        return skus

    def combination_count(self) -> int:
        return sum(len(product.combinations) for product in self._active)

    def __len__(self) -> int:
        return len(self._active)

    # --- changes --------------------------------------------------------------------

    def _targets(self, sku_or_order_sku: str) -> tuple[Product, list[Combination] | None]:
        """A plain sku of a variant product targets all its combinations."""
        product, combo = self.resolve(sku_or_order_sku)
        if combo is not None:
            return product, [combo]
        return product, (product.combinations or None)

    def set_price(
        self,
        sku_or_order_sku: str,
        *,
        net_price: Decimal | None = None,
        price: Decimal | None = None,
    ) -> Product:
        """Set RRP and/or net price; only the values given change."""
        product, combos = self._targets(sku_or_order_sku)
        targets: list[Product | Combination] = list(combos) if combos else [product]
        for target in targets:
            if price is not None:
                target.price = price
            if net_price is not None:
                target.net_price = net_price
        product.bump()
        return product

    def change_prices(self, *, fraction: float, seed: int) -> list[str]:
        """Move the RRP (and so the net price) of a seeded fraction of orderable units."""
        rng = random.Random(seed)
        units: list[tuple[Product, Product | Combination]] = []
        for product in self._active:
            if product.combinations:
                units.extend((product, combo) for combo in product.combinations)
            else:
                units.append((product, product))
        count = min(len(units), round(len(units) * fraction))
        picked = sorted(rng.sample(range(len(units)), count))
        changed: list[str] = []
        for index in picked:
            product, target = units[index]
            # -15 % .. +20 %, never zero, so every picked unit really changes.
            step = rng.choice((-15, -10, -7, -5, -3, 3, 5, 8, 10, 12, 15, 20))
            old = target.price
            new = _price(rng, float(old) * (100 + step) / 100)
            if new == old:
                new = old + (Decimal("1.00") if step > 0 else Decimal("-1.00"))
            target.price = max(new, Decimal("0.99"))
            target.net_price = net_from_price(target.price, self.discount)
            product.bump()
            changed.append(target.order_sku if isinstance(target, Combination) else target.sku)
        return changed

    def set_stock(self, sku_or_order_sku: str, state: str) -> Product:
        if state not in STOCK_STATES:
            raise ValueError(f"stock state must be one of {', '.join(STOCK_STATES)}")
        product, combos = self._targets(sku_or_order_sku)
        if combos:
            for combo in combos:
                combo.stock = state
        else:
            product.stock = state
        product.bump()
        return product

    def remove(self, sku: str) -> Product:
        product = self.get(sku)
        if product is None:
            raise KeyError(sku)
        product.active = False
        self._reindex()
        return product
