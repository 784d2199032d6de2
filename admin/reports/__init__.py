"""Reports: daily roll-up, charts, exports, the public figures."""
