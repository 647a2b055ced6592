from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        # tracks asks "may this user download this track?" without knowing the marketplace.
        from marketplace.selectors import holds_licence_for_track
        from tracks.selectors import register_download_grant

        register_download_grant(holds_licence_for_track)
