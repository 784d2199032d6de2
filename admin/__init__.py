"""Municipality: funds, eligibility import, issuance, letters, shop approval, reports, settlement."""
