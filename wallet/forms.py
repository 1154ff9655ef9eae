"""Forms of the wallet pages."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

MAX_STATEMENT_BYTES = 5 * 1024 * 1024


class StatementImportForm(forms.Form):
    statement = forms.FileField(
        label="Ledger entries (JSON, newest first, as the API lists them)",
        help_text='A list of entries or {"ledger": [...]}, e.g. from the supplier\'s statement.',
    )

    def clean_statement(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["statement"]
        if (upload.size or 0) > MAX_STATEMENT_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return upload
