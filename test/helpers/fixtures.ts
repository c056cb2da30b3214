// The fixtures live in scripts/lib/ so scripts (record:histories, bench:playbook) need nothing from test/ (issue #11).
export * from '../../scripts/lib/fixtures';
