/** Modules Grafana provides to plugins at run time; the panel bundle must not carry its own copies. */
export const GRAFANA_EXTERNALS = ['react', 'react-dom', '@grafana/data', '@grafana/ui', '@grafana/runtime', '@emotion/css'];
