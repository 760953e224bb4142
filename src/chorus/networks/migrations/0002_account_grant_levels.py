"""Per-account levels: the plain `allowed_members` table becomes `AccountGrant`.

The table and its rows stay; every existing grant becomes "publish" (what it meant).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_notification"),
        ("networks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccountGrant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "socialaccount",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="grants",
                                to="networks.socialaccount",
                            ),
                        ),
                        (
                            "membership",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="account_grants",
                                to="accounts.membership",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "networks_socialaccount_allowed_members",
                        "unique_together": {("socialaccount", "membership")},
                        "default_manager_name": "every",
                    },
                    managers=[("every", models.Manager())],
                ),
                migrations.AlterField(
                    model_name="socialaccount",
                    name="allowed_members",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="usable_accounts",
                        through="networks.AccountGrant",
                        to="accounts.membership",
                    ),
                ),
            ],
            database_operations=[],
        ),
        # Existing rows were "may use": they keep publishing. New grants choose their levels.
        migrations.AddField(
            model_name="accountgrant",
            name="publish",
            field=models.BooleanField(default=True, verbose_name="publish"),
        ),
        migrations.AlterField(
            model_name="accountgrant",
            name="publish",
            field=models.BooleanField(default=False, verbose_name="publish"),
        ),
        migrations.AddField(
            model_name="accountgrant",
            name="draft",
            field=models.BooleanField(default=False, verbose_name="draft"),
        ),
        migrations.AddField(
            model_name="accountgrant",
            name="reply",
            field=models.BooleanField(default=False, verbose_name="reply"),
        ),
        migrations.AddField(
            model_name="accountgrant",
            name="analytics",
            field=models.BooleanField(default=False, verbose_name="analytics"),
        ),
    ]
