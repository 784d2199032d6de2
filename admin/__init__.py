"""Municipality: funds, eligibility import, issuance, letters, shops, reports, settlement."""
