"""An independent model of the ID format, written from the spec, to check the SQL against."""

from __future__ import annotations


def format_id(prefix: str, ordinal: int, digits: int = 4, min_letters: int = 3) -> str:
    """Return the ID with *ordinal* (spec: block = (n-1) / cap, number = (n-1) % cap + 1)."""
    cap = 10**digits - 1
    block, number = divmod(ordinal - 1, cap)
    length = min_letters
    while block >= 26**length:
        block -= 26**length
        length += 1
    letters = "".join(chr(65 + (block // 26 ** (length - 1 - i)) % 26) for i in range(length))
    return f"{prefix}-{letters}{number + 1:0{digits}d}"


def ordinal_of(letters: str, number: int, digits: int = 4, min_letters: int = 3) -> int:
    """Return the ordinal of an ID's letter block and number."""
    cap = 10**digits - 1
    block = sum(26**k for k in range(min_letters, len(letters)))
    value = 0
    for ch in letters:
        value = value * 26 + (ord(ch) - 65)
    return (block + value) * cap + number
