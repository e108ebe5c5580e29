DROP TABLE auth_flows;
