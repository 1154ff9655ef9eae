"""Customers, purchase orders, their lines and the licence keys they deliver."""
