import { useCallback, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Icon } from './Icon.js';

const GAP = 8;
const MARGIN = 12;

/**
 * A small "how is this computed" note: an info icon that shows its text on hover and on
 * keyboard focus (Escape hides it), read by screen readers as the icon's description. The
 * bubble is placed in the viewport, so a note at the right edge never runs off the screen.
 */
export function InfoTip({ children, label = 'How this is computed' }: { children: ReactNode; label?: string }) {
  const id = useId();
  const trigger = useRef<HTMLButtonElement>(null);
  const bubble = useRef<HTMLSpanElement>(null);
  const [open, setOpen] = useState(false);
  const [pos, setPos] = useState<{ left: number; top: number } | null>(null);

  useLayoutEffect(() => {
    if (!open || !trigger.current || !bubble.current) return;
    const t = trigger.current.getBoundingClientRect();
    const b = bubble.current.getBoundingClientRect();
    const left = Math.min(Math.max(MARGIN, t.left + t.width / 2 - b.width / 2), window.innerWidth - b.width - MARGIN);
    const below = t.bottom + GAP;
    const top = below + b.height > window.innerHeight - MARGIN ? t.top - GAP - b.height : below;
    setPos({ left, top });
  }, [open]);

  const show = useCallback(() => setOpen(true), []);
  const hide = useCallback(() => {
    setOpen(false);
    setPos(null);
  }, []);

  return (
    <span className="infotip" onMouseEnter={show} onMouseLeave={hide}>
      <button
        ref={trigger}
        type="button"
        className="infotip-trigger"
        aria-label={label}
        aria-describedby={id}
        onFocus={show}
        onBlur={hide}
        onKeyDown={(e) => {
          if (e.key === 'Escape') hide();
        }}
      >
        <Icon name="info" size={14} />
      </button>
      <span
        ref={bubble}
        role="tooltip"
        id={id}
        className={`infotip-body${open ? ' is-open' : ''}`}
        style={pos ? { left: pos.left, top: pos.top, visibility: 'visible' } : undefined}
      >
        {children}
      </span>
    </span>
  );
}
