import io

import pytest
from pypdf import PdfReader


@pytest.fixture(autouse=True)
def _platform(settings):
    settings.INVOICE_PREFIX = "VZ"
    settings.PLATFORM_LEGAL_NAME = "Veza SAS"
    settings.PLATFORM_ADDRESS = "1 place de la Bourse, 75002 Paris, France"
    settings.PLATFORM_VAT_NUMBER = "FR40303265045"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
