-- Per-cluster values of an install: rules naming a cluster or holding a label selector, each
-- with parameter values on top of the install's own (JSON: [{cluster|selector, values}]).
ALTER TABLE app_installs ADD COLUMN rules_json TEXT NOT NULL DEFAULT '[]';
