// The port helper lives in scripts/lib/ so scripts need nothing from test/ (issue #11).
export * from '../../scripts/lib/net';
