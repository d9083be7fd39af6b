import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart, SankeyChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendPlainComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { ChartOption } from './Chart.js';

// Only what the dashboard draws is registered, which keeps the charts chunk small.
echarts.use([BarChart, LineChart, SankeyChart, GridComponent, LegendPlainComponent, TooltipComponent, AriaComponent, SVGRenderer]);

const BASE: ChartOption = {
  aria: { enabled: true },
  tooltip: {
    backgroundColor: '#0f172a',
    borderWidth: 0,
    textStyle: { color: '#f8fafc', fontSize: 12 },
    extraCssText: 'border-radius:8px;box-shadow:0 8px 24px rgba(15,23,42,.2);',
  },
};

/**
 * The echarts instance behind <Chart>: created on mount, resized with its container and
 * disposed on unmount. Loaded lazily, so pages without charts never download echarts.
 */
export default function EChart({ option, label, height }: { option: ChartOption; label: string; height: number }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const instance = echarts.init(el, null, { renderer: 'svg' });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // echarts measures text on a canvas, which does not understand `inherit`: pass the real stack.
    const fontFamily = getComputedStyle(el).fontFamily;
    const tooltip = Array.isArray(option.tooltip) ? option.tooltip : { ...BASE.tooltip, ...option.tooltip };
    chart.current?.setOption({ ...BASE, ...option, textStyle: { fontFamily }, tooltip }, { notMerge: true });
  }, [option]);

  return <div className="chart" ref={box} role="img" aria-label={label} style={{ height }} />;
}
