/** The ECharts renderer (tree-shaken echarts/core), loaded lazily: the first page never pays for it. */
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { ChartSpec } from '../lib/chart-data';

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

// Screenshots and tests must not catch half-drawn bars: no animation under automation or reduced motion.
const animate = !navigator.webdriver && !window.matchMedia('(prefers-reduced-motion: reduce)').matches;

function optionOf(spec: ChartSpec, dark: boolean): echarts.EChartsCoreOption {
  const text = dark ? '#d6dae0' : '#2b2f36';
  const base = {
    animation: animate,
    backgroundColor: 'transparent',
    textStyle: { color: text },
    tooltip: { trigger: spec.kind === 'piechart' ? 'item' : 'axis' },
  };
  const legend = spec.series.length > 1 || spec.kind === 'piechart' ? { legend: { type: 'scroll', bottom: 0, textStyle: { color: text } } } : {};
  if (spec.kind === 'piechart') {
    const s = spec.series[0];
    return {
      ...base,
      ...legend,
      series: [{ type: 'pie', radius: ['35%', '65%'], data: spec.categories.map((name, i) => ({ name, value: s?.values[i] ?? 0 })), label: { color: text } }],
    };
  }
  const time = spec.kind === 'timechart' || spec.kind === 'linechart' || spec.kind === 'areachart';
  const horizontal = spec.kind === 'barchart';
  const cat = { type: 'category', data: time ? spec.categories.map((c) => c.slice(0, 16).replace('T', ' ')) : spec.categories, axisLabel: { color: text } };
  const val = { type: 'value', axisLabel: { color: text }, splitLine: { lineStyle: { color: dark ? '#3a3f47' : '#e3e6ea' } } };
  return {
    ...base,
    ...legend,
    grid: { left: 8, right: 16, top: 16, bottom: legend.legend ? 36 : 8, containLabel: true },
    xAxis: horizontal ? val : cat,
    yAxis: horizontal ? { ...cat, inverse: true } : val,
    series: spec.series.map((s) => ({
      name: s.name,
      type: time ? 'line' : 'bar',
      data: s.values,
      ...(spec.stacked ? { stack: 'all' } : {}),
      ...(spec.kind === 'areachart' ? { areaStyle: {} } : {}),
      ...(time ? { showSymbol: false } : {}),
    })),
  };
}

export default function EChart({ spec, label, height = 240 }: { spec: ChartSpec; label: string; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current!;
    const dark = document.documentElement.dataset.theme === 'dark';
    const chart = echarts.init(el, undefined, { renderer: 'canvas' });
    chart.on('finished', () => el.setAttribute('data-rendered', 'true'));
    chart.setOption(optionOf(spec, dark));
    // Only real size changes: the observer's first callback (the size at init) would draw everything twice.
    let size = `${el.clientWidth}x${el.clientHeight}`;
    const resize = new ResizeObserver(() => {
      const now = `${el.clientWidth}x${el.clientHeight}`;
      if (now !== size) chart.resize();
      size = now;
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.dispose();
    };
  }, [spec]);
  return <div ref={ref} className="chart" role="img" aria-label={label} data-chart={spec.kind} style={{ height }} />;
}
