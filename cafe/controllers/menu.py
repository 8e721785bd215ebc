"""/api/v1/cafe: the menu the till loads, categories, products (pictures, pictograms), discounts."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, QueryParameter

from cafe.controllers.access import SUPERVISOR, TILL
from cafe.schemas import (
    DiscountIn,
    DiscountOut,
    DiscountUpdate,
    MenuCategoryIn,
    MenuCategoryOut,
    MenuCategoryUpdate,
    MenuOut,
    ProductIn,
    ProductOut,
    ProductUpdate,
)
from cafe.services import menu, pictures
from hub.deps import Caller, Db, SettingsDep
from hub.errors import InvalidInput

# The route's own body limit is generous; the setting (cafe_picture_max_bytes) is checked by the
# service, which answers 422 naming the picture.
PICTURE_BODY_LIMIT = 32 * 1024 * 1024


class MenuController(Controller):
    path = "/api/v1/cafe"
    tags = ["cafe"]

    @get(
        "/menu",
        opt=TILL,
        summary="The whole menu, discounts and the pay-it-forward pool (what the till loads)",
    )
    async def get_menu(self, db: Db, settings: SettingsDep) -> MenuOut:
        return await menu.menu(db, settings)

    @get("/categories", opt=TILL, summary="Menu categories")
    async def list_categories(self, db: Db) -> list[MenuCategoryOut]:
        return await menu.list_categories(db)

    @post("/categories", opt=SUPERVISOR, summary="Add a menu category")
    async def create_category(
        self, db: Db, identity: Caller, data: JSONBody[MenuCategoryIn]
    ) -> MenuCategoryOut:
        return await menu.create_category(db, identity, data)

    @patch("/categories/{category_id:int}", opt=SUPERVISOR, summary="Change a menu category")
    async def update_category(
        self, db: Db, identity: Caller, category_id: FromPath[int], data: JSONBody[MenuCategoryUpdate]
    ) -> MenuCategoryOut:
        return await menu.update_category(db, identity, category_id, data)

    @get("/products", opt=TILL, summary="Products, with allergens, modifiers and stock")
    async def list_products(
        self, db: Db, category_id: Annotated[int | None, QueryParameter(ge=1)] = None
    ) -> list[ProductOut]:
        return await menu.list_products(db, category_id=category_id)

    @post("/products", opt=SUPERVISOR, summary="Add a product")
    async def create_product(self, db: Db, identity: Caller, data: JSONBody[ProductIn]) -> ProductOut:
        return await menu.create_product(db, identity, data)

    @get("/products/{product_id:int}", opt=TILL, summary="One product")
    async def get_product(self, db: Db, product_id: FromPath[int]) -> ProductOut:
        return await menu.product_detail(db, product_id)

    @patch(
        "/products/{product_id:int}", opt=SUPERVISOR, summary="Change a product (available, stock, price…)"
    )
    async def update_product(
        self, db: Db, identity: Caller, product_id: FromPath[int], data: JSONBody[ProductUpdate]
    ) -> ProductOut:
        return await menu.update_product(db, identity, product_id, data)

    @put(
        "/products/{product_id:int}/picture",
        opt=SUPERVISOR,
        summary="Upload a product's picture (PNG, JPEG or WebP; multipart field 'picture' or the raw body)",
        request_max_body_size=PICTURE_BODY_LIMIT,
    )
    async def put_picture(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        product_id: FromPath[int],
    ) -> ProductOut:
        await menu.get_product(db, product_id)  # 404 before reading the upload
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("picture")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("Send the picture in the form field 'picture'.", field="picture")
            content = await upload.read()
        else:
            content = await request.body()
        stored = pictures.store_picture(settings, content)  # before the transaction: no I/O inside it
        return await menu.set_picture(db, identity, product_id, stored)

    @get("/products/{product_id:int}/picture", opt=TILL, summary="A product's picture")
    async def get_picture(self, db: Db, settings: SettingsDep, product_id: FromPath[int]) -> Response[bytes]:
        product = await menu.get_product(db, product_id)
        path = pictures.picture_path(settings, product.picture_stored_name)
        media = pictures.MEDIA_TYPES[path.suffix.lstrip(".")]
        return Response(
            path.read_bytes(),
            media_type=media,
            headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

    @get("/discounts", opt=TILL, summary="Discounts (volunteer, staff, concession…)")
    async def list_discounts(self, db: Db) -> list[DiscountOut]:
        return await menu.list_discounts(db)

    @post("/discounts", opt=SUPERVISOR, summary="Add a discount")
    async def create_discount(self, db: Db, identity: Caller, data: JSONBody[DiscountIn]) -> DiscountOut:
        return await menu.create_discount(db, identity, data)

    @patch("/discounts/{code:str}", opt=SUPERVISOR, summary="Change a discount")
    async def update_discount(
        self, db: Db, identity: Caller, code: FromPath[str], data: JSONBody[DiscountUpdate]
    ) -> DiscountOut:
        return await menu.update_discount(db, identity, code, data)


class PictogramController(Controller):
    path = "/api/v1/cafe/pictograms"
    tags = ["cafe"]

    @get("/", opt=TILL, summary="The pictograms a product may show (food and drink icons, by name)")
    async def list_pictograms(self) -> list[str]:
        return list(pictures.pictogram_names())

    @get(
        "/{name:str}",
        opt=TILL,
        media_type="image/svg+xml",
        summary="A pictogram as SVG (name, optionally ending .svg)",
    )
    async def get_pictogram(self, name: FromPath[str]) -> Response[str]:
        svg = pictures.pictogram_svg(name.removesuffix(".svg"))
        return Response(
            svg,
            media_type="image/svg+xml",
            headers={"Cache-Control": "private, max-age=604800", "X-Content-Type-Options": "nosniff"},
        )
