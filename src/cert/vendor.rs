//! TPM manufacturer IDs (TCG Vendor ID Registry) and the names they stand for.

/// `(TPM_PT_MANUFACTURER value, vendor name)`, from the TCG TPM Vendor ID Registry, plus the
/// ID swtpm writes into its certificates.
pub const TCG_VENDORS: &[(u32, &str)] = &[
    (u32::from_be_bytes(*b"AMD\0"), "AMD"),
    (u32::from_be_bytes(*b"ANT\0"), "Ant Group"),
    (u32::from_be_bytes(*b"ATML"), "Atmel"),
    (u32::from_be_bytes(*b"BRCM"), "Broadcom"),
    (u32::from_be_bytes(*b"CSCO"), "Cisco"),
    (u32::from_be_bytes(*b"FLYS"), "Flyslice Technologies"),
    (u32::from_be_bytes(*b"ROCC"), "Fuzhou Rockchip"),
    (u32::from_be_bytes(*b"GOOG"), "Google"),
    (u32::from_be_bytes(*b"HPI\0"), "HPI"),
    (u32::from_be_bytes(*b"HPE\0"), "HPE"),
    (u32::from_be_bytes(*b"HISI"), "Huawei"),
    (u32::from_be_bytes(*b"IBM\0"), "IBM"),
    (u32::from_be_bytes(*b"IFX\0"), "Infineon"),
    (u32::from_be_bytes(*b"INTC"), "Intel"),
    (u32::from_be_bytes(*b"LEN\0"), "Lenovo"),
    (u32::from_be_bytes(*b"MSFT"), "Microsoft"),
    (u32::from_be_bytes(*b"NSM "), "National Semiconductor"),
    (u32::from_be_bytes(*b"NTZ\0"), "Nationz"),
    (u32::from_be_bytes(*b"NSG\0"), "NSING"),
    (u32::from_be_bytes(*b"NTC\0"), "Nuvoton Technology"),
    (u32::from_be_bytes(*b"QCOM"), "Qualcomm"),
    (u32::from_be_bytes(*b"SMSN"), "Samsung"),
    (u32::from_be_bytes(*b"SNS\0"), "Sinosun"),
    (u32::from_be_bytes(*b"SMSC"), "SMSC"),
    (u32::from_be_bytes(*b"STM "), "STMicroelectronics"),
    (u32::from_be_bytes(*b"TXN\0"), "Texas Instruments"),
    (u32::from_be_bytes(*b"WEC\0"), "Winbond"),
    // Not in the registry: the PCI vendor ID of IBM, which swtpm's certificates carry.
    (0x0000_1014, "IBM (swtpm)"),
];

/// The vendor name for a manufacturer ID, if the registry has it.
pub fn manufacturer_name(id: u32) -> Option<&'static str> {
    TCG_VENDORS
        .iter()
        .find(|(v, _)| *v == id)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::manufacturer_name;

    #[test]
    fn known_ids() {
        assert_eq!(manufacturer_name(0x4946_5800), Some("Infineon"));
        assert_eq!(manufacturer_name(0x474F_4F47), Some("Google"));
        assert_eq!(manufacturer_name(0x5354_4D20), Some("STMicroelectronics"));
        assert_eq!(manufacturer_name(0x0000_1014), Some("IBM (swtpm)"));
        assert_eq!(manufacturer_name(0x1234_5678), None);
    }
}
