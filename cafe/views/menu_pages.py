"""The menu as supervisors keep it (``/cafe/menu``: products, pictures, availability, stock) and the
printable allergen sheet every café worker may print (``/till/allergens``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from cafe.models import ALLERGENS
from cafe.schemas import ProductIn, ProductUpdate
from cafe.services import menu as service
from cafe.services import pictures
from cafe.views.till import SUPERVISORS, TILL_ROLES
from hub.auth import roles
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError, InvalidInput
from hub.forms import Problems, parse_pence, pounds_input
from hub.schemas import convert_input
from hub.web import form_errors, read_form, redirect, render

SUPERVISOR_ONLY = roles(SUPERVISORS)
# A picture comes as a form upload; the service holds it to the configured limit.
PICTURE_BODY_BYTES = 20 * 1024 * 1024

VAT_KINDS = [
    ("hot", "Hot food or hot drink (VAT 20% always)"),
    ("cold_food", "Cold food (no VAT to take away, 20% eaten in)"),
    ("standard", "Standard (VAT 20% always), e.g. sweets, soft drinks"),
    ("zero", "Zero-rated (no VAT), e.g. milk, bread"),
]
PIF_KINDS = [("", "No"), ("coffee", "Yes, as a coffee"), ("meal", "Yes, as a meal")]


@get("/till/allergens", opt=TILL_ROLES, include_in_schema=False)
async def allergen_sheet(request: Request[Any, Any, Any], db: Db, settings: SettingsDep) -> Template:
    categories = await service.list_categories(db)
    products = await service.list_products(db)
    by_category = [
        (c, [p for p in products if p.category_id == c.id and p.available]) for c in categories if c.active
    ]
    return render(
        request,
        "cafe/allergens.html",
        title="Allergens on our menu",
        allergens=list(ALLERGENS.items()),
        by_category=[(c, ps) for c, ps in by_category if ps],
        today=settings.today(),
    )


async def _menu_context(db: Db) -> dict[str, Any]:
    categories = await service.list_categories(db)
    products = await service.list_products(db)
    return {
        "categories": categories,
        "by_category": [(c, [p for p in products if p.category_id == c.id]) for c in categories],
    }


@get("/cafe/menu", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def menu_page(request: Request[Any, Any, Any], db: Db) -> Template:
    return render(request, "cafe/menu.html", title="Café menu", **await _menu_context(db))


@post("/cafe/menu/{product_id:int}/availability", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def menu_availability(
    request: Request[Any, Any, Any], db: Db, identity: Caller, product_id: FromPath[int]
) -> Redirect:
    form = await read_form(request)
    available = form.get("available") == "yes"
    product = await service.update_product(db, identity, product_id, ProductUpdate(available=available))
    word = "on sale" if available else "not available"
    return redirect(request, f"/cafe/menu#product-{product.id}", flash=f"{product.short_name} is now {word}.")


def _values(product: Any | None) -> dict[str, Any]:
    if product is None:
        return {"vat_kind": "hot", "available": "yes", "allergens": [], "sort_order": "0"}
    return {
        "category_id": str(product.category_id),
        "short_name": product.short_name,
        "description": product.description,
        "price": pounds_input(product.price_pence),
        "vat_kind": product.vat_kind,
        "allergens": list(product.allergens),
        "pictogram": product.pictogram or "",
        "available": "yes" if product.available else "",
        "sort_order": str(product.sort_order),
        "stock_count": "" if product.stock_count is None else str(product.stock_count),
        "low_stock_at": "" if product.low_stock_at is None else str(product.low_stock_at),
        "pay_it_forward_kind": product.pay_it_forward_kind or "",
    }


def _whole(text: str, field: str, problems: Problems, *, blank_is_none: bool = True) -> int | None:
    raw = text.strip()
    if not raw:
        if blank_is_none:
            return None
        problems.add(field, "Enter a whole number.")
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 7:
        problems.add(field, "Enter a whole number, such as 12.")
        return None
    return int(raw)


async def _read_product(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as typed (to show again) and as the schema's data; raises every problem at once."""
    form_data = await request.form()
    form = {k: v.strip() if isinstance(v, str) else "" for k, v in form_data.items() if k != "_csrf"}
    allergens = [a for a in form_data.getall("allergens", []) if isinstance(a, str)]
    typed: dict[str, Any] = {**form, "allergens": allergens}
    problems = Problems()
    price = problems.read(parse_pence, form.get("price"), "price")
    data: dict[str, Any] = {
        "category_id": int(form["category_id"]) if form.get("category_id", "").isdigit() else 0,
        "short_name": form.get("short_name", ""),
        "description": form.get("description", ""),
        "price_pence": price if price is not None else 0,
        "vat_kind": form.get("vat_kind", ""),
        "allergens": [a for a in allergens if a in ALLERGENS],
        "pictogram": form.get("pictogram") or None,
        "available": form.get("available") == "yes",
        "sort_order": _whole(form.get("sort_order", "0") or "0", "sort_order", problems) or 0,
        "stock_count": _whole(form.get("stock_count", ""), "stock_count", problems),
        "low_stock_at": _whole(form.get("low_stock_at", ""), "low_stock_at", problems),
        "pay_it_forward_kind": form.get("pay_it_forward_kind") or None,
    }
    if not data["category_id"]:
        problems.add("category_id", "Choose where it goes on the till.")
    if not data["short_name"]:
        problems.add("short_name", "Enter the name on the till button.")
    problems.convert(data, ProductIn)
    if problems.items:
        raise InvalidInput("Please correct the form.", errors=problems.items)
    return typed, data


async def _form_page(
    request: Request[Any, Any, Any],
    db: Db,
    *,
    product: Any | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    status_code: int = 200,
) -> Template:
    categories = await service.list_categories(db)
    return render(
        request,
        "cafe/product_form.html",
        status_code=status_code,
        title=f"Change {product.short_name}" if product else "Add to the menu",
        product=product,
        values=values,
        errors=errors or {},
        error_summary=summary,
        category_options=[(c.id, c.name) for c in categories],
        vat_kinds=VAT_KINDS,
        pif_kinds=PIF_KINDS,
        allergens=list(ALLERGENS.items()),
        pictograms=pictures.pictogram_names(),
    )


@get("/cafe/menu/new", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def product_new(request: Request[Any, Any, Any], db: Db) -> Template:
    return await _form_page(request, db, product=None, values=_values(None))


@post("/cafe/menu/new", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def product_create(request: Request[Any, Any, Any], db: Db, identity: Caller) -> Template | Redirect:
    typed: dict[str, Any] = {}
    try:
        typed, data = await _read_product(request)
        product = await service.create_product(db, identity, convert_input(data, ProductIn))
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _form_page(
            request,
            db,
            product=None,
            values=typed or await _typed(request),
            errors=_renamed(errors),
            summary=summary,
            status_code=exc.status_code,
        )
    return redirect(request, f"/cafe/menu/{product.id}", flash=f"{product.short_name} is on the menu.")


@get("/cafe/menu/{product_id:int}", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def product_page(request: Request[Any, Any, Any], db: Db, product_id: FromPath[int]) -> Template:
    product = await service.product_detail(db, product_id)
    return await _form_page(request, db, product=product, values=_values(product))


@post("/cafe/menu/{product_id:int}", opt=SUPERVISOR_ONLY, include_in_schema=False)
async def product_update(
    request: Request[Any, Any, Any], db: Db, identity: Caller, product_id: FromPath[int]
) -> Template | Redirect:
    product = await service.product_detail(db, product_id)
    typed: dict[str, Any] = {}
    try:
        typed, data = await _read_product(request)
        updated = await service.update_product(db, identity, product_id, convert_input(data, ProductUpdate))
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _form_page(
            request,
            db,
            product=product,
            values=typed or await _typed(request),
            errors=_renamed(errors),
            summary=summary,
            status_code=exc.status_code,
        )
    return redirect(request, f"/cafe/menu#product-{updated.id}", flash=f"{updated.short_name} is saved.")


@post(
    "/cafe/menu/{product_id:int}/picture",
    opt=SUPERVISOR_ONLY,
    include_in_schema=False,
    request_max_body_size=PICTURE_BODY_BYTES,
)
async def product_picture(
    request: Request[Any, Any, Any],
    db: Db,
    identity: Caller,
    settings: SettingsDep,
    product_id: FromPath[int],
) -> Template | Redirect:
    product = await service.product_detail(db, product_id)
    form = await request.form()
    upload = form.get("picture")
    try:
        if not isinstance(upload, UploadFile):
            raise InvalidInput("Choose a picture file (PNG, JPEG or WebP).", field="picture")
        content = await upload.read()
        stored = pictures.store_picture(settings, content)
        await service.set_picture(db, identity, product_id, stored)
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        return await _form_page(
            request,
            db,
            product=product,
            values=_values(product),
            errors=errors,
            summary=summary,
            status_code=exc.status_code,
        )
    return redirect(
        request, f"/cafe/menu/{product_id}", flash=f"The picture of {product.short_name} is saved."
    )


async def _typed(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await read_form(request)
    return dict(form)


def _renamed(errors: dict[str, str]) -> dict[str, str]:
    """The schema's names → the form's inputs (price_pence is typed as pounds in ``price``)."""
    names = {"price_pence": "price"}
    return {names.get(k, k): v for k, v in errors.items()}


ROUTES = [
    allergen_sheet,
    menu_page,
    menu_availability,
    product_new,
    product_create,
    product_page,
    product_update,
    product_picture,
]
