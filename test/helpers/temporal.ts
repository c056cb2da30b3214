// The dev-server helpers live in scripts/lib/ so scripts need nothing from test/ (issue #11).
export * from '../../scripts/lib/temporal';
