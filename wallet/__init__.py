"""The prepaid supplier wallet: balance snapshots, the ledger mirror and its audit."""
