/* Every setting of the two drivers, declared once. Plain C preprocessor, because two rooms
   read it: the store's C++ parser (vpopmail_settings.cc, vmailmgr_settings.cc: the 2.3
   `args` words, vstore's arguments, `vstore settings`) and compat/dovecot24_settings.c (2.4's
   named settings, which must be C). Nothing else lists setting names.

   X(scope, name24, "arg", apply, "default", "meaning")
     scope    BOTH: an args word on 2.3 and the named setting name24 on 2.4;
              ARGS23: an args word only (2.4 has its own setting for it, see meaning)
     name24   the 2.4 setting (a C identifier: it names the settings struct's field)
     arg      the 2.3 args word, and vstore's
     apply    the C++ function that parses the value into the driver's settings struct
     default  the value used when the setting is not given ("" = the meaning says what)
     meaning  one line, for `vstore settings` and the configuration reference */
#ifndef VSTORE_SETTINGS_LIST_H
#define VSTORE_SETTINGS_LIST_H

/* The same for both drivers; P is the driver's 2.4 prefix. */
#define VSTORE_ACCESS_SETTINGS(X, P)                                                           \
	X(BOTH, P##_verify_threads, "verify_threads", apply_verify_threads, "auto",            \
	  "threads hashing passwords in the auth process (auto: one per core; 0: none)")         \
	X(BOTH, P##_shared_fs, "shared_fs", apply_shared_fs, "auto",                           \
	  "whether the store is on a shared file system (auto: decided per directory by statfs)") \
	X(BOTH, P##_home_roots, "home_roots", apply_home_roots, "",                            \
	  "comma-separated directories outside the store owner's home that homes may be in")     \
	X(BOTH, P##_max_crypt_rounds, "max_crypt_rounds", apply_max_crypt_rounds, "1000000",   \
	  "most rounds a stored crypt hash may ask for (sha-crypt, Sun MD5, sha1crypt, BSDi)")   \
	X(BOTH, P##_max_bcrypt_cost, "max_bcrypt_cost", apply_max_bcrypt_cost, "14",           \
	  "highest bcrypt cost a stored hash may ask for")                                       \
	X(BOTH, P##_max_yescrypt_mib, "max_yescrypt_mib", apply_max_yescrypt_mib, "64",        \
	  "most memory (MiB) a stored yescrypt/scrypt hash may ask for")

#define VSTORE_VPOPMAIL_SETTINGS(X)                                                            \
	X(BOTH, vpopmail_dir, "vpopmail_dir", apply_vpopmail_dir, "",                          \
	  "vpopmail's home (etc/, domains/); empty: the home of user vpopmail")                  \
	X(BOTH, vpopmail_qmail_dir, "qmail_dir", apply_qmail_dir, "/var/qmail",                \
	  "qmail's directory, whose users/cdb maps domains to their directories")                \
	X(BOTH, vpopmail_default_domain, "default_domain", apply_default_domain, "",           \
	  "domain of logins without one; empty: the first line of <vpopmail_dir>/etc/defaultdomain") \
	X(BOTH, vpopmail_webmail_ips, "webmail_ips", apply_webmail_ips, "",                    \
	  "comma-separated client addresses whose imap/pop3 logins count as webmail")            \
	X(BOTH, vpopmail_clear_password, "clear_password", apply_clear_password, "ignore",     \
	  "prefer: check passwords against the clear field first (Dovecot's old driver)")        \
	X(BOTH, vpopmail_lastauth, "lastauth", apply_lastauth, "yes",                          \
	  "write <user dir>/lastauth after a login, as vchkpw")                                  \
	X(BOTH, vpopmail_lastauth_interval, "lastauth_interval", apply_lastauth_interval, "60", \
	  "skip the lastauth write when it is younger than this (s, m, h)")                      \
	X(ARGS23, vpopmail_blocking, "blocking", apply_blocking, "no",                         \
	  "run in auth workers (no: in the auth process, through the store broker; 2.4: passdb_use_worker / userdb_use_worker)") \
	X(BOTH, vpopmail_backend, "backend", apply_backend, "cdb",                             \
	  "where the users are: cdb (each domain's vpasswd.cdb) or mysql (vpopmail's MySQL backend)") \
	X(BOTH, vpopmail_mysql_config, "mysql_config", apply_mysql_config, "",                 \
	  "backend=mysql: vpopmail's connection file; empty: <vpopmail_dir>/etc/vpopmail.mysql") \
	X(BOTH, vpopmail_many_domains, "many_domains", apply_many_domains, "yes",              \
	  "backend=mysql: one vpopmail table (yes) or a table per domain (no: --disable-many-domains)") \
	X(BOTH, vpopmail_mysql_limits, "mysql_limits", apply_mysql_limits, "no",               \
	  "backend=mysql: domain limits from table limits (yes: --enable-mysql-limits) or from files") \
	VSTORE_ACCESS_SETTINGS(X, vpopmail)

#define VSTORE_VMAILMGR_SETTINGS(X)                                                            \
	X(BOTH, vmailmgr_qmail_dir, "qmail_dir", apply_qmail_dir, "",                          \
	  "qmail's directory (control/); empty: <config_dir>/qmail-root, else /var/qmail")       \
	X(BOTH, vmailmgr_config_dir, "config_dir", apply_config_dir, "/etc/vmailmgr",          \
	  "vmailmgr's global configuration directory")                                           \
	X(BOTH, vmailmgr_default_domain, "default_domain", apply_default_domain, "",           \
	  "domain of logins without one; empty: the connection's local name")                    \
	X(BOTH, vmailmgr_separators, "separators", apply_separators, "",                       \
	  "characters between user and domain; empty: <config_dir>/separators, else @")          \
	X(BOTH, vmailmgr_refuse_disabled_mailbox, "refuse_disabled_mailbox",                   \
	  apply_refuse_disabled_mailbox, "no",                                                   \
	  "refuse logins to a mailbox vmailmgr marks disabled (checkvpw allows them)")           \
	X(ARGS23, vmailmgr_blocking, "blocking", apply_blocking, "no",                         \
	  "run in auth workers (no: in the auth process, through the store broker; 2.4: passdb_use_worker / userdb_use_worker)") \
	VSTORE_ACCESS_SETTINGS(X, vmailmgr)

#endif
