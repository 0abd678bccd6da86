"""struct page, as memory_failure sees it: every pfn of RAM is a free buddy page until
the kernel allocates it (anonymous LRU dirty/clean, page cache, kernel/reserved), except
the kernel image's first 64 MiB, which are the kernel's."""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SHIFT = 12
PAGE_STATES = ("buddy", "anon_dirty", "anon_clean", "pagecache_dirty", "pagecache_clean",
               "kernel", "reserved", "hugetlb")
HPAGE_ORDER = 9  # 2 MiB with 4 KiB pages
KERNEL_IMAGE = 64 << 20  # the start of RAM the kernel image and early allocations take
_PAGE_STATES = frozenset(PAGE_STATES)


@dataclass
class Page:
    state: str = "buddy"
    hwpoison: bool = False  # PG_hwpoison


class Pages:
    """pfn -> struct page for the RAM the kernel manages (pfn_valid())."""

    def __init__(self, ram: tuple[tuple[int, int], ...], reserved: tuple[tuple[int, int], ...] = (),
                 nomap: tuple[tuple[int, int], ...] = ()):
        """``ram``: the memory the kernel manages (online); ``reserved``: firmware's part of
        it; ``nomap``: memory the firmware described but the kernel does not map (memblock
        nomap): its pfns are valid, never online. The first 64 MiB of the first RAM range
        hold the kernel image and early allocations: their pages are the kernel's."""
        self.ranges = tuple((base >> PAGE_SHIFT, (base + size) >> PAGE_SHIFT) for base, size in ram)
        self.nomap = tuple((base >> PAGE_SHIFT, (base + size) >> PAGE_SHIFT) for base, size in nomap)
        lo = self.ranges[0][0] if self.ranges else 0
        self.kernel_image = (lo, lo + (KERNEL_IMAGE >> PAGE_SHIFT))
        self._pages: dict[int, Page] = {}
        self._next: dict[int, int] = {}
        self._next_huge = 0
        self.huge_head: dict[int, int] = {}  # pfn of a hugetlb folio -> its head pfn
        for base, size in reserved:
            for pfn in range(base >> PAGE_SHIFT, (base + size + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT):
                self.set(pfn, "reserved")

    def alloc(self, state: str) -> int | None:
        """alloc_page(): the lowest free buddy pfn (deterministic), now in ``state``; None
        when out of memory. Allocation starts above the first 64 MiB (kernel image)."""
        pages = self._pages
        for lo, hi in self.ranges:
            pfn = max(lo + (KERNEL_IMAGE >> PAGE_SHIFT) if lo == self.ranges[0][0] else lo,
                      self._next.get(lo, lo))
            while pfn < hi:
                p = pages.get(pfn)
                if p is None or (p.state == "buddy" and not p.hwpoison):
                    self._next[lo] = pfn + 1
                    self.set(pfn, state)
                    return pfn
                pfn += 1
        return None

    def alloc_huge(self, order: int = HPAGE_ORDER) -> int | None:
        """alloc_hugetlb_folio(): 2**order free, aligned pfns, all ``hugetlb``; the head pfn."""
        n = 1 << order
        lo, hi = self.ranges[0]
        head = max(self._next_huge, ((lo + (KERNEL_IMAGE >> PAGE_SHIFT)) + n - 1) & ~(n - 1))
        while head + n <= hi:
            block = range(head, head + n)
            if all((p := self._pages.get(q)) is None or (p.state == "buddy" and not p.hwpoison)
                   for q in block):
                for q in block:
                    self.set(q, "hugetlb")
                    self.huge_head[q] = head
                self._next_huge = head + n
                self._next[lo] = max(self._next.get(lo, lo), head + n)
                return head
            head += n
        return None

    def pfn_valid(self, pfn: int) -> bool:
        """pfn_valid(): RAM or nomap memory (it has a struct page)."""
        return self.online(pfn) or any(lo <= pfn < hi for lo, hi in self.nomap)

    def online(self, pfn: int) -> bool:
        """pfn_to_online_page() finds it: RAM the kernel manages."""
        for lo, hi in self.ranges:
            if lo <= pfn < hi:
                return True
        return False

    def page(self, pfn: int) -> Page:
        """pfn_to_page() (only for valid pfns)."""
        p = self._pages.get(pfn)
        if p is None:
            lo, hi = self.kernel_image
            p = self._pages[pfn] = Page("kernel" if lo <= pfn < hi else "buddy")
        return p

    def set(self, pfn: int, state: str) -> Page:
        if state not in _PAGE_STATES:
            raise ValueError(f"unknown page state {state!r}")
        p = self._pages.get(pfn)  # page(pfn), inline
        if p is None:
            p = self._pages[pfn] = Page(state)
        else:
            p.state = state
        return p
