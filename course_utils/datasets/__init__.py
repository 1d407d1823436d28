"""Generators of the course's synthetic datasets and validators of the real ones.

One module per dataset family; each holds the generator of the synthetic
dataset and the validator of the real dataset whose layout it imitates:

=================  ==================  =====================  ==========================
generated          module              imitates (external)    validator
=================  ==================  =====================  ==========================
brain-mri-study    ``brain_mri``       rsna-miccai            ``validate_rsna_miccai``
ct-phantom         ``ct_phantom``      (none)
clot-slides        ``clot_slides``     strip-ai               ``validate_strip_ai``
mammo-roi          ``mammo``           cbis-ddsm              ``validate_cbis_ddsm``
bone-xray          ``bone_xray``       mura                   ``validate_mura``
cardiac-cine       ``cardiac_cine``    dsb-cardiac            ``validate_dsb_cardiac``
=================  ==================  =====================  ==========================

Generator protocol: a module-level ``DEFAULTS`` dict (every parameter and its
default, including ``seed``) and ``generate(out_dir, **params)`` writing into an
existing empty folder. Validator protocol: ``validate_x(root, report)`` adding
:class:`course_utils.data.Finding` objects to ``report.findings`` and counts to
``report.summary``; headers only, never writing into ``root``.

Use :func:`course_utils.data.dataset_path` rather than calling generators directly.
"""

GENERATED = {
    "brain-mri-study": "brain_mri",
    "ct-phantom": "ct_phantom",
    "clot-slides": "clot_slides",
    "mammo-roi": "mammo",
    "bone-xray": "bone_xray",
    "cardiac-cine": "cardiac_cine",
}

EXTERNAL = {
    "rsna-miccai": ("brain_mri", "validate_rsna_miccai"),
    "strip-ai": ("clot_slides", "validate_strip_ai"),
    "cbis-ddsm": ("mammo", "validate_cbis_ddsm"),
    "mura": ("bone_xray", "validate_mura"),
    "dsb-cardiac": ("cardiac_cine", "validate_dsb_cardiac"),
}
