import { Suspense, lazy } from 'react';
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption, SankeySeriesOption } from 'echarts/charts';
import type { AriaComponentOption, GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components';

export type ChartOption = ComposeOption<BarSeriesOption | LineSeriesOption | SankeySeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption | AriaComponentOption>;

/** Series colours; the badges in styles.css (--inbound, --outbound, --mutual) use the same hues. */
export const DIRECTION_COLORS = { inbound: '#2563eb', outbound: '#d97706', mutual: '#059669' } as const;
export const PALETTE = ['#4f46e5', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#7c3aed', '#64748b'];

/** One colour per feedback kind, so a kind looks the same on every chart. */
export const FEEDBACK_COLORS: Record<string, string> = {
  ticket: '#db2777',
  review: '#4f46e5',
  survey: '#0891b2',
  interview: '#7c3aed',
  visit_note: '#65a30d',
  other: '#64748b',
};

export const AXIS_STYLE = {
  axisLine: { lineStyle: { color: '#cbd5e1' } },
  axisTick: { show: false },
  axisLabel: { color: '#64748b', fontSize: 11 },
  splitLine: { lineStyle: { color: '#eef2f7' } },
} as const;

const AXIS_NAME_STYLE = { color: '#475569', fontSize: 11 };

/** An x axis's title, centred below its labels. */
export const xTitle = (name: string, gap = 26) => ({ name, nameLocation: 'middle' as const, nameGap: gap, nameTextStyle: AXIS_NAME_STYLE });
/** A value y axis's title, turned along the axis left of its labels (the grid leaves it room). */
export const yTitle = (name: string, gap = 38) => ({ name, nameLocation: 'middle' as const, nameGap: gap, nameRotate: 90, nameTextStyle: AXIS_NAME_STYLE });
/** A category y axis's title, above the axis (horizontal bar charts). */
export const yTitleTop = (name: string) => ({ name, nameLocation: 'end' as const, nameGap: 8, nameTextStyle: { ...AXIS_NAME_STYLE, align: 'right' as const } });

const EChart = lazy(() => import('./EChart.js'));

/**
 * A bar, line or flow (Sankey) chart (echarts) that fills its box and follows its size. `label` names it for
 * screen readers; pages add a "Show the numbers" table for the exact figures.
 */
export function Chart({ option, label, height = 280 }: { option: ChartOption; label: string; height?: number }) {
  return (
    <Suspense fallback={<div className="chart chart-loading" style={{ height }} aria-hidden="true" />}>
      <EChart option={option} label={label} height={height} />
    </Suspense>
  );
}
