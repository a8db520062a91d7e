import { FieldConfigProperty, PanelPlugin } from '@grafana/data';
import { RackMapPanel } from './RackMapPanel';
import { DEFAULT_OPTIONS, type RackMapOptions } from './types';

export const plugin = new PanelPlugin<RackMapOptions>(RackMapPanel)
  .useFieldConfig({
    // Thresholds, colour scheme, unit, min/max come from Grafana's field config when "Colours" is set to it.
    standardOptions: {
      [FieldConfigProperty.Color]: { defaultValue: { mode: 'thresholds' } },
    },
  })
  .setPanelOptions((builder) =>
    builder
      .addRadio({
        path: 'metric',
        name: 'Colour slots by',
        defaultValue: DEFAULT_OPTIONS.metric,
        settings: {
          options: [
            { value: 'health', label: 'Health / faults' },
            { value: 'temperature', label: 'Temperature' },
            { value: 'hashrate', label: 'Hashrate % of nominal' },
            { value: 'fan', label: 'Fan speed' },
            { value: 'power', label: 'Power' },
          ],
        },
      })
      .addRadio({
        path: 'colorSource',
        name: 'Colours',
        description: "The metric's own scale, or the thresholds and colour scheme set under Standard options",
        defaultValue: DEFAULT_OPTIONS.colorSource,
        settings: { options: [{ value: 'metric', label: 'Metric scale' }, { value: 'fieldConfig', label: 'Field config' }] },
      })
      .addNumberInput({ path: 'containersPerRow', name: 'Containers per row', description: '0 = fit to the panel', defaultValue: DEFAULT_OPTIONS.containersPerRow, settings: { min: 0, integer: true } })
      .addRadio({
        path: 'rackOrientation',
        name: 'Rack orientation',
        defaultValue: DEFAULT_OPTIONS.rackOrientation,
        settings: { options: [{ value: 'vertical', label: 'Vertical (racks side by side)' }, { value: 'horizontal', label: 'Horizontal (racks stacked)' }] },
      })
      .addBooleanSwitch({ path: 'showLabels', name: 'Labels', description: 'Rack names and values inside large slots', defaultValue: DEFAULT_OPTIONS.showLabels })
      .addBooleanSwitch({ path: 'tvMode', name: 'TV mode', description: 'Large type, high contrast, list of miners needing attention', defaultValue: DEFAULT_OPTIONS.tvMode })
      .addNumberInput({ path: 'staleAfterSeconds', name: 'Stale after (s)', defaultValue: DEFAULT_OPTIONS.staleAfterSeconds, settings: { min: 1, integer: true } })
      .addNumberInput({ path: 'slotsPerShelf', name: 'Slots per shelf', description: '0 = highest slot seen; missing slots are drawn empty', defaultValue: DEFAULT_OPTIONS.slotsPerShelf, settings: { min: 0, integer: true } })
      .addTextInput({
        path: 'detailUrl',
        name: 'Slot link',
        description: 'Opened on click; {miner} {site} {container} {rack} {shelf} {slot} and dashboard variables are replaced',
        defaultValue: DEFAULT_OPTIONS.detailUrl,
      }),
  );
