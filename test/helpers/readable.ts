// Readability checks run inside a Chromium page: every visible piece of text
// against the background it is painted on (WCAG contrast ratio), large light
// panels under a dark colour scheme, and elements wider than the box that
// holds them. Each returns the offenders, described, so a failing test names them.
import type { Page } from 'playwright-core';

export interface Offender {
  what: string;
  detail: string;
}

/**
 * Text whose contrast with its background is under `min` (4.5 is WCAG AA for
 * body text). Disabled controls are exempt, as WCAG exempts them.
 */
export function lowContrast(page: Page, min = 4.5): Promise<Offender[]> {
  return page.evaluate((min) => {
    const rgba = (s: string): number[] => (s.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number).concat(s.startsWith('rgba') ? [] : [1]).slice(0, 4);
    const lum = ([r, g, b]: number[]) => {
      const f = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c[3]! > 0.5) return c;
      }
      return rgba(getComputedStyle(document.documentElement).backgroundColor || 'rgb(255,255,255)');
    };
    const out: { what: string; detail: string }[] = [];
    const seen = new Set<Element>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent?.trim() || el.closest('svg, option, :disabled, [aria-hidden="true"]')) continue;
      seen.add(el);
      const r = el.getBoundingClientRect();
      const st = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || st.visibility === 'hidden') continue;
      const fg = lum(rgba(st.color));
      const bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < min) out.push({ what: `${el.tagName.toLowerCase()}.${Array.from(el.classList).join('.')} "${n.textContent.trim().slice(0, 30)}"`, detail: `${st.color} on ${background(el).join(',')}: ${ratio.toFixed(2)}` });
    }
    return out;
  }, min);
}

/** Under a dark scheme: elements whose own background is light (a white panel). */
export function lightPanels(page: Page): Promise<Offender[]> {
  return page.evaluate(() => {
    const out: { what: string; detail: string }[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const c = (getComputedStyle(el).backgroundColor.match(/[\d.]+/g) ?? []).map(Number);
      if (c.length < 3 || (c.length === 4 && c[3]! < 0.5)) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 24 || r.height < 12) continue;
      if ((c[0]! + c[1]! + c[2]!) / 3 > 160) out.push({ what: `${el.tagName.toLowerCase()}.${Array.from(el.classList).join('.')}`, detail: `background ${c.join(',')}` });
    }
    return out;
  });
}

/** Elements matching `selector` that stick out of their parent's content box (or the viewport). */
export function overflowing(page: Page, selector: string): Promise<Offender[]> {
  return page.evaluate((selector) => {
    const out: { what: string; detail: string }[] = [];
    for (const el of Array.from(document.querySelectorAll(selector))) {
      const p = el.parentElement!;
      const pr = p.getBoundingClientRect();
      const ps = getComputedStyle(p);
      const right = Math.min(pr.right - parseFloat(ps.paddingRight) - parseFloat(ps.borderRightWidth), document.documentElement.clientWidth);
      const r = el.getBoundingClientRect();
      if (r.right > right + 1) out.push({ what: `${el.tagName.toLowerCase()} in ${p.tagName.toLowerCase()}.${Array.from(p.classList).join('.')}`, detail: `right edge ${Math.round(r.right)} > ${Math.round(right)}` });
    }
    return out;
  }, selector);
}
