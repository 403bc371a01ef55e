"""PDF building blocks:
fonts and layout, page images, the customer's signature stamp, PAdES, office conversion.
"""
