// Window-scrolled list virtualization over @tanstack/virtual-core: only the rows
// near the viewport exist in the DOM, so a list stays as light at row 100,000
// as at row 10. Rows have a fixed height (a card on a phone is taller).
import { Virtualizer, observeWindowOffset, observeWindowRect, windowScroll } from '@tanstack/virtual-core';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export function useWindowVirtualizer({ count, size, listRef }: { count: number; size: number; listRef: { current: HTMLElement | null } }) {
  const [, rerender] = useState(0);
  const ref = useRef<Virtualizer<Window, Element> | null>(null);
  if (!ref.current) {
    ref.current = new Virtualizer<Window, Element>({
      count,
      getScrollElement: () => window,
      estimateSize: () => size,
      scrollToFn: windowScroll,
      observeElementRect: observeWindowRect,
      observeElementOffset: observeWindowOffset,
      overscan: 8,
      initialOffset: () => window.scrollY,
      onChange: () => rerender((n) => n + 1),
    });
  }
  const v = ref.current;
  v.setOptions({
    ...v.options,
    count,
    estimateSize: () => size,
    scrollMargin: listRef.current ? listRef.current.getBoundingClientRect().top + window.scrollY : 0,
  });
  useLayoutEffect(() => v._didMount(), [v]);
  useLayoutEffect(() => {
    v._willUpdate();
  });
  useLayoutEffect(() => v.measure(), [size]);
  return v;
}
