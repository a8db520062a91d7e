// Stylesheets imported by @grafana/ui components mean nothing to jsdom.
module.exports = {};
